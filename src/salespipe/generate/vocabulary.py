"""Fixed word lists the synthetic sales generator draws names from.

Pure data: cities with their region and country, the product taxonomy with
price levels and seasonal peaks, brands, and people's names. No value here
contains a comma, quote, tab or newline, so rendered text never needs quoting.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    """A city stores can open in."""

    name: str
    region: str
    country: str


@dataclass(frozen=True)
class Subcategory:
    """A subcategory and the nouns its products are named after."""

    name: str
    nouns: tuple[str, ...]


@dataclass(frozen=True)
class Category:
    """A product category: taxonomy, typical price and when it sells best."""

    name: str
    subcategories: tuple[Subcategory, ...]
    brands: tuple[str, ...]
    median_price: float  # dollars
    peak_month: int  # 1..12
    seasonal_amplitude: float  # 0 = flat all year
    demand: float  # how often its products are bought, relative to other categories


# Stores open in this order, so a small dataset still spans regions and both
# countries; the list repeats (with new store suffixes) for large store counts.
CITIES: tuple[City, ...] = (
    City("New York", "Northeast", "US"),
    City("Chicago", "Midwest", "US"),
    City("Los Angeles", "West", "US"),
    City("Austin", "South", "US"),
    City("Toronto", "Central Canada", "CA"),
    City("Seattle", "West", "US"),
    City("Atlanta", "South", "US"),
    City("Boston", "Northeast", "US"),
    City("Denver", "West", "US"),
    City("Vancouver", "Western Canada", "CA"),
    City("Miami", "South", "US"),
    City("Minneapolis", "Midwest", "US"),
    City("Philadelphia", "Northeast", "US"),
    City("Phoenix", "West", "US"),
    City("Columbus", "Midwest", "US"),
    City("Nashville", "South", "US"),
    City("Montreal", "Central Canada", "CA"),
    City("San Diego", "West", "US"),
    City("Detroit", "Midwest", "US"),
    City("Charlotte", "South", "US"),
)

STORE_SUFFIXES: tuple[str, ...] = (
    "Downtown",
    "Mall",
    "Outlet",
    "Uptown",
    "Riverside",
    "Plaza",
    "Airport",
    "Harbor",
)

CATEGORIES: tuple[Category, ...] = (
    Category(
        "Electronics",
        (
            Subcategory("Audio", ("Headphones", "Earbuds", "Speaker", "Soundbar")),
            Subcategory("Phone Accessories", ("Phone Case", "Charger", "Power Bank", "Cable")),
            Subcategory("Computers", ("Keyboard", "Mouse", "Monitor", "Webcam")),
        ),
        ("Voltix", "Sonora", "Nexa", "Kyro"),
        45.0,
        12,
        0.25,
        0.6,
    ),
    Category(
        "Home & Kitchen",
        (
            Subcategory("Cookware", ("Frying Pan", "Saucepan", "Stock Pot", "Baking Sheet")),
            Subcategory("Appliances", ("Blender", "Toaster", "Kettle", "Coffee Maker")),
            Subcategory("Tableware", ("Mug", "Plate Set", "Glass Set", "Bowl")),
        ),
        ("Hearth & Co", "Brava", "Kitchenly", "Oakmere"),
        22.0,
        12,
        0.15,
        0.9,
    ),
    Category(
        "Apparel",
        (
            Subcategory("Tops", ("T-Shirt", "Sweater", "Hoodie", "Polo")),
            Subcategory("Bottoms", ("Jeans", "Chinos", "Shorts", "Leggings")),
            Subcategory("Outerwear", ("Jacket", "Raincoat", "Parka", "Vest")),
        ),
        ("Northline", "Urbano", "Fieldwear", "Lumen"),
        32.0,
        11,
        0.15,
        1.0,
    ),
    Category(
        "Grocery",
        (
            Subcategory("Snacks", ("Granola Bar", "Tortilla Chips", "Trail Mix", "Pretzels")),
            Subcategory("Beverages", ("Sparkling Water", "Cold Brew", "Green Tea", "Lemonade")),
            Subcategory("Pantry", ("Olive Oil", "Pasta", "Basmati Rice", "Tomato Sauce")),
        ),
        ("Harvest Lane", "Goodfield", "Pure Pantry", "Sunvale"),
        3.5,
        12,
        0.05,
        2.2,
    ),
    Category(
        "Beauty",
        (
            Subcategory("Skincare", ("Moisturizer", "Cleanser", "Sunscreen", "Serum")),
            Subcategory("Hair Care", ("Shampoo", "Conditioner", "Hair Oil")),
            Subcategory("Fragrance", ("Eau de Parfum", "Body Mist")),
        ),
        ("Lumière", "Velvet Leaf", "Aura", "Botanica"),
        14.0,
        12,
        0.10,
        1.2,
    ),
    Category(
        "Sports & Outdoors",
        (
            Subcategory("Fitness", ("Yoga Mat", "Dumbbell Set", "Resistance Bands", "Jump Rope")),
            Subcategory("Camping", ("Tent", "Sleeping Bag", "Headlamp", "Camp Stove")),
            Subcategory("Cycling", ("Bike Helmet", "Bike Light", "Water Bottle")),
        ),
        ("Trailhead", "Peakform", "Riverstone", "Kinetic"),
        35.0,
        6,
        0.25,
        0.6,
    ),
    Category(
        "Toys & Games",
        (
            Subcategory("Board Games", ("Strategy Game", "Party Game", "Card Game")),
            Subcategory("Building Sets", ("Building Kit", "Marble Run", "Robot Kit")),
            Subcategory("Puzzles", ("Jigsaw Puzzle", "Puzzle Cube", "Floor Puzzle")),
        ),
        ("Playwell", "Brickbox", "Tiny Titans", "Jolly"),
        20.0,
        12,
        0.55,
        0.7,
    ),
    Category(
        "Books & Stationery",
        (
            Subcategory("Books", ("Novel", "Cookbook", "Travel Guide", "Picture Book")),
            Subcategory("Stationery", ("Notebook", "Gel Pens", "Planner", "Sketchbook")),
        ),
        ("Inkwell", "Paperleaf", "Quill & Co", "Margin"),
        11.0,
        8,
        0.15,
        0.8,
    ),
)

PRODUCT_ADJECTIVES: tuple[str, ...] = (
    "Classic",
    "Pro",
    "Essential",
    "Ultra",
    "Everyday",
    "Premium",
    "Compact",
    "Deluxe",
    "Eco",
    "Signature",
    "Lite",
    "Max",
)

FIRST_NAMES: tuple[str, ...] = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
    "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
    "Thomas", "Sarah", "Carlos", "Karen", "Daniel", "Lisa", "Matthew", "Nancy",
    "Anthony", "Betty", "Mark", "Sandra", "Wei", "Ashley", "Steven", "Emily",
    "Andrew", "Olivia", "Kevin", "Chloé", "Brian", "Zoë", "José", "Amelia",
    "Priya", "Mei", "Omar", "Fatima", "Noah", "Ava", "Liam", "Sofia",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson",
    "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker",
    "Young", "Allen", "King", "Wright", "Scott", "Nguyen", "Hill", "Flores", "Green",
    "Müller", "O'Brien", "Kowalski", "Chen", "Patel", "Kim", "Tremblay", "Gagnon",
)  # fmt: skip

CHANNELS: tuple[str, ...] = ("store", "online")

PAYMENT_METHODS: tuple[str, ...] = ("card", "cash", "mobile_wallet", "gift_card", "paypal")

# Probability of each payment method, per channel (rows follow CHANNELS).
PAYMENT_MIX: tuple[tuple[float, ...], ...] = (
    (0.58, 0.19, 0.17, 0.06, 0.00),
    (0.68, 0.00, 0.08, 0.04, 0.20),
)

CURRENCY = "USD"
