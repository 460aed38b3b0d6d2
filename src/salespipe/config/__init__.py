"""Configuration: the declared settings and the loader of salespipe.yaml."""

from salespipe.config.loader import load_config, parse_config
from salespipe.config.model import Config, Source

__all__ = ["Config", "Source", "load_config", "parse_config"]
