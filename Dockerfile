# The salespipe image the Docker Compose example in docs/deployment.md builds:
# the API, the dashboard and every trigger, with PostgreSQL, S3 and Kafka support.
FROM python:3.11-slim
WORKDIR /opt/salespipe
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir ".[api,dashboard,postgres,s3,kafka,watch,monitor]"
ENV PYTHONUNBUFFERED=1
EXPOSE 8000 8501
# SIGTERM lets a load in progress commit (give the container a stop grace period)
CMD ["salespipe", "serve", "--host", "0.0.0.0", "--port", "8000"]
