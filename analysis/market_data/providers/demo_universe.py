"""The demo market's listings: well-known US stocks and the SPY benchmark.

Prices are approximate closes of 2 January 2025 (split-adjusted); the demo walk is anchored there. Shares
outstanding give the market cap; beta, volatility and drift (annual) shape the walk; volume is the daily average.
"""

from dataclasses import dataclass

BENCHMARK = "SPY"


@dataclass(frozen=True)
class Listing:
    symbol: str
    name: str
    exchange: str
    sector: str
    industry: str
    price: float
    shares: float  # outstanding, in billions
    beta: float
    volatility: float
    drift: float
    volume: float  # average daily, in millions
    description: str
    aliases: tuple[str, ...] = ()
    asset_type: str = "Common Stock"


_TECH, _COMM, _CYC, _DEF = "Technology", "Communication Services", "Consumer Cyclical", "Consumer Defensive"
_FIN, _HEALTH, _ENERGY, _IND = "Financial Services", "Healthcare", "Energy", "Industrials"

LISTINGS = (
    Listing("SPY", "SPDR S&P 500 ETF Trust", "NYSE Arca", "Exchange Traded Fund", "Large Blend", 584.64, 1.03,
            1.0, 0.17, 0.08, 50, "An exchange-traded fund that tracks the S&P 500 index of large US companies; "
            "the benchmark for beta and relative performance.", ("s&p 500", "s&p", "sp500", "spdr"), "ETF"),
    Listing("AAPL", "Apple Inc.", "NASDAQ", _TECH, "Consumer Electronics", 243.85, 15.0, 1.2, 0.27, 0.14, 50,
            "Designs and sells the iPhone, Mac, iPad and wearables, and a growing services business "
            "(App Store, iCloud, Apple Music, Apple Pay)."),
    Listing("MSFT", "Microsoft Corporation", "NASDAQ", _TECH, "Software - Infrastructure", 418.58, 7.43, 0.9,
            0.25, 0.13, 20, "Makes Windows and Office, runs the Azure cloud platform, and owns LinkedIn, GitHub "
            "and the Xbox gaming business."),
    Listing("GOOGL", "Alphabet Inc. Class A", "NASDAQ", _COMM, "Internet Content & Information", 189.43, 12.2,
            1.05, 0.30, 0.14, 25, "The parent of Google: search and YouTube advertising, Android, Google Cloud, "
            "and long-term bets such as Waymo.", ("google", "alphabet", "youtube")),
    Listing("AMZN", "Amazon.com, Inc.", "NASDAQ", _CYC, "Internet Retail", 220.22, 10.5, 1.15, 0.32, 0.15, 40,
            "Runs the largest online store in the US, a third-party seller marketplace, Prime subscriptions and "
            "Amazon Web Services, the leading cloud provider.", ("amazon", "aws")),
    Listing("NVDA", "NVIDIA Corporation", "NASDAQ", _TECH, "Semiconductors", 138.31, 24.5, 1.7, 0.50, 0.30, 250,
            "Designs graphics processors and the accelerators, networking and CUDA software used to train and "
            "run AI models in data centres.", ("nvidia",)),
    Listing("META", "Meta Platforms, Inc.", "NASDAQ", _COMM, "Internet Content & Information", 599.24, 2.52,
            1.25, 0.38, 0.15, 14, "Owns Facebook, Instagram, WhatsApp and Messenger, earns mostly from "
            "advertising, and invests in AI and virtual reality.", ("facebook", "instagram", "whatsapp")),
    Listing("TSLA", "Tesla, Inc.", "NASDAQ", _CYC, "Auto Manufacturers", 379.28, 3.21, 2.0, 0.55, 0.20, 90,
            "Makes electric cars, batteries and solar and energy-storage products, and develops driver-assistance "
            "software.", ("tesla",)),
    Listing("BRK.B", "Berkshire Hathaway Inc. Class B", "NYSE", _FIN, "Insurance - Diversified", 453.2, 2.16,
            0.85, 0.18, 0.10, 4, "A conglomerate built around insurance (GEICO, reinsurance) that also owns BNSF "
            "railway, utilities and large stakes in public companies.", ("berkshire",)),
    Listing("JPM", "JPMorgan Chase & Co.", "NYSE", _FIN, "Banks - Diversified", 241.0, 2.8, 1.1, 0.24, 0.11, 9,
            "The largest US bank: consumer banking as Chase, plus investment banking, asset management and "
            "commercial lending.", ("jpmorgan", "jp morgan", "chase")),
    Listing("V", "Visa Inc.", "NYSE", _FIN, "Credit Services", 316.0, 1.95, 0.95, 0.21, 0.12, 7,
            "Runs a global card payments network that authorises and settles transactions between banks, "
            "merchants and cardholders.", ("visa",)),
    Listing("MA", "Mastercard Incorporated", "NYSE", _FIN, "Credit Services", 527.0, 0.92, 1.0, 0.22, 0.12, 3,
            "Operates a global payments network and sells fraud, data and processing services to banks and "
            "merchants.", ("mastercard",)),
    Listing("JNJ", "Johnson & Johnson", "NYSE", _HEALTH, "Drug Manufacturers - General", 145.0, 2.41, 0.5, 0.16,
            0.05, 7, "Develops prescription medicines and medical devices for surgery, orthopaedics and vision.",
            ("j&j", "johnson and johnson")),
    Listing("UNH", "UnitedHealth Group Incorporated", "NYSE", _HEALTH, "Healthcare Plans", 507.0, 0.92, 0.6,
            0.24, 0.08, 4, "The largest US health insurer (UnitedHealthcare), with Optum's care delivery, pharmacy "
            "benefits and health data services.", ("unitedhealth",)),
    Listing("PG", "The Procter & Gamble Company", "NYSE", _DEF, "Household & Personal Products", 167.0, 2.35,
            0.45, 0.16, 0.07, 7, "Sells household brands such as Tide, Pampers, Gillette, Crest and Charmin in "
            "more than 180 countries.", ("procter", "p&g", "procter and gamble")),
    Listing("XOM", "Exxon Mobil Corporation", "NYSE", _ENERGY, "Oil & Gas Integrated", 107.5, 4.4, 0.9, 0.26,
            0.06, 15, "Explores for and produces oil and natural gas, refines fuels and makes chemicals worldwide.",
            ("exxon", "exxonmobil", "mobil")),
    Listing("CVX", "Chevron Corporation", "NYSE", _ENERGY, "Oil & Gas Integrated", 146.0, 1.76, 0.95, 0.26, 0.06,
            8, "An integrated energy company: oil and gas production, refining, and fuel marketing.", ("chevron",)),
    Listing("HD", "The Home Depot, Inc.", "NYSE", _CYC, "Home Improvement Retail", 390.0, 0.99, 1.0, 0.23, 0.10,
            3.5, "The largest home-improvement retailer, selling building materials, tools and garden supplies "
            "to homeowners and contractors.", ("home depot",)),
    Listing("KO", "The Coca-Cola Company", "NYSE", _DEF, "Beverages - Non-Alcoholic", 62.2, 4.31, 0.6, 0.15, 0.06,
            14, "Makes the concentrates and syrups for Coca-Cola, Sprite, Fanta and hundreds of other drinks sold "
            "through bottling partners.", ("coca cola", "coke")),
    Listing("PEP", "PepsiCo, Inc.", "NASDAQ", _DEF, "Beverages - Non-Alcoholic", 151.0, 1.37, 0.55, 0.16, 0.06, 6,
            "Sells Pepsi, Gatorade and other drinks, and Frito-Lay and Quaker snacks and foods.", ("pepsi",)),
    Listing("WMT", "Walmart Inc.", "NASDAQ", _DEF, "Discount Stores", 91.0, 8.03, 0.55, 0.18, 0.10, 15,
            "Runs Walmart supercentres and Sam's Club warehouses, and a growing online marketplace.",
            ("walmart",)),
    Listing("DIS", "The Walt Disney Company", "NYSE", _COMM, "Entertainment", 111.0, 1.81, 1.2, 0.28, 0.06, 9,
            "Makes films and series (Disney, Pixar, Marvel, Star Wars), runs theme parks and cruises, and "
            "streams through Disney+ and Hulu.", ("disney", "walt disney")),
    Listing("NFLX", "Netflix, Inc.", "NASDAQ", _COMM, "Entertainment", 88.6, 4.28, 1.3, 0.36, 0.15, 40,
            "A subscription streaming service for series, films and games, with an advertising tier.",
            ("netflix",)),
    Listing("INTC", "Intel Corporation", "NASDAQ", _TECH, "Semiconductors", 20.2, 4.33, 1.1, 0.40, 0.02, 60,
            "Designs and manufactures PC and server processors, and is building a contract chip foundry.",
            ("intel",)),
    Listing("AMD", "Advanced Micro Devices, Inc.", "NASDAQ", _TECH, "Semiconductors", 120.0, 1.62, 1.7, 0.48,
            0.18, 40, "Designs Ryzen and EPYC processors, Radeon graphics and Instinct AI accelerators.",
            ("amd",)),
    Listing("CSCO", "Cisco Systems, Inc.", "NASDAQ", _TECH, "Communication Equipment", 59.0, 3.98, 0.85, 0.20,
            0.07, 18, "Sells networking hardware, security and collaboration software such as Webex.",
            ("cisco",)),
    Listing("ORCL", "Oracle Corporation", "NYSE", _TECH, "Software - Infrastructure", 164.0, 2.8, 1.0, 0.30, 0.12,
            9, "Sells database and enterprise software and Oracle Cloud Infrastructure.", ("oracle",)),
    Listing("IBM", "International Business Machines Corporation", "NYSE", _TECH, "Information Technology Services",
            221.0, 0.925, 0.75, 0.22, 0.07, 4, "Provides hybrid-cloud software (Red Hat), consulting and "
            "mainframe infrastructure to large enterprises.", ("ibm",)),
    Listing("BA", "The Boeing Company", "NYSE", _IND, "Aerospace & Defense", 176.0, 0.75, 1.4, 0.35, 0.05, 8,
            "Builds commercial airliners, military aircraft, satellites and space systems.", ("boeing",)),
    Listing("CAT", "Caterpillar Inc.", "NYSE", _IND, "Farm & Heavy Construction Machinery", 364.0, 0.48, 1.1, 0.27,
            0.10, 2.5, "Makes construction and mining equipment, diesel and gas engines, and power generation "
            "systems.", ("caterpillar",)),
    Listing("GS", "The Goldman Sachs Group, Inc.", "NYSE", _FIN, "Capital Markets", 574.0, 0.31, 1.3, 0.28, 0.10,
            2.2, "An investment bank: advisory, underwriting, trading, and asset and wealth management.",
            ("goldman", "goldman sachs")),
    Listing("BAC", "Bank of America Corporation", "NYSE", _FIN, "Banks - Diversified", 44.0, 7.6, 1.3, 0.28, 0.08,
            35, "A large US bank serving consumers, businesses and institutions, including Merrill wealth "
            "management.", ("bank of america", "bofa")),
    Listing("PFE", "Pfizer Inc.", "NYSE", _HEALTH, "Drug Manufacturers - General", 26.6, 5.67, 0.6, 0.22, 0.03,
            35, "Develops and sells medicines and vaccines across oncology, immunology and infectious disease.",
            ("pfizer",)),
    Listing("MRK", "Merck & Co., Inc.", "NYSE", _HEALTH, "Drug Manufacturers - General", 99.0, 2.53, 0.4, 0.20,
            0.05, 9, "Makes prescription medicines such as Keytruda, vaccines and animal-health products.",
            ("merck",)),
    Listing("NKE", "NIKE, Inc.", "NYSE", _CYC, "Footwear & Accessories", 75.0, 1.48, 1.05, 0.30, 0.04, 11,
            "Designs and sells athletic footwear, apparel and equipment under Nike, Jordan and Converse.",
            ("nike",)),
    Listing("MCD", "McDonald's Corporation", "NYSE", _CYC, "Restaurants", 290.0, 0.716, 0.65, 0.17, 0.08, 3.5,
            "Franchises and operates McDonald's restaurants in more than 100 countries.",
            ("mcdonalds", "mcdonald's")),
    Listing("ADBE", "Adobe Inc.", "NASDAQ", _TECH, "Software - Application", 440.0, 0.435, 1.2, 0.32, 0.08, 3.5,
            "Sells creative and document software by subscription (Photoshop, Acrobat) and marketing software.",
            ("adobe",)),
    Listing("CRM", "Salesforce, Inc.", "NYSE", _TECH, "Software - Application", 333.0, 0.96, 1.25, 0.32, 0.10, 6,
            "Provides cloud customer-relationship software for sales, service and marketing, plus Slack and "
            "Tableau.", ("salesforce",)),
    Listing("COST", "Costco Wholesale Corporation", "NASDAQ", _DEF, "Discount Stores", 915.0, 0.444, 0.8, 0.20,
            0.13, 2, "Runs membership warehouse clubs selling groceries and general merchandise in bulk.",
            ("costco",)),
    Listing("VZ", "Verizon Communications Inc.", "NYSE", _COMM, "Telecom Services", 40.0, 4.21, 0.4, 0.18, 0.03,
            20, "Provides wireless, home internet and fibre services across the US.", ("verizon",)),
    Listing("T", "AT&T Inc.", "NYSE", _COMM, "Telecom Services", 22.8, 7.18, 0.5, 0.20, 0.04, 35,
            "Provides wireless and fibre broadband services in the US.", ("at&t", "att")),
)

BY_SYMBOL = {listing.symbol: listing for listing in LISTINGS}
