"""StockTool settings: every environment differs by environment variables only (see .env.example)."""

import re
from urllib.parse import quote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from .env import BASE_DIR, env, env_bool, env_float, env_int, env_str, env_url

# --- Core -------------------------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-dev-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from here, not from a CDN
    "storages",
    "stocktool",
    "monitoring",
    "knowledge",
    "analysis",
    "conversations",
]

MIDDLEWARE = [
    # First, so they see every request: both sync- and async-capable, no thread hop under ASGI.
    "monitoring.middleware.RequestIdMiddleware",
    "monitoring.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "stocktool.security.ContentSecurityPolicyMiddleware",
    "stocktool.degraded.AWSUnavailableMiddleware",  # last: it sees the views' exceptions first
]

ROOT_URLCONF = "stocktool.urls"
WSGI_APPLICATION = "stocktool.wsgi.application"
ASGI_APPLICATION = "stocktool.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 0)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web, events consumer and worker write at the same time: wait for locks, take the write lock up front
    # (no "database is locked" on upgrade), and let readers run beside a writer (WAL).
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    })
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
MEDIA_ROOT = BASE_DIR / "media"
MEDIA_URL = "media/"

# --- Security: on by default; the local `make run` sets DEBUG=true and plain http ---------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
# Lax: the cookies still come with a top-level link from another site, never with its forms or scripts.
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
# CSRF_COOKIE_HTTPONLY stays off: the admin's sync button reads the token from the cookie (Django's docs: no gain).
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# HSTS: a year when DEBUG is off (browsers then refuse plain http for the host); 0 turns it off.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Usually the TLS proxy or load balancer redirects http itself; SECURE_SSL_REDIRECT=true makes Django do it.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# Behind a proxy that terminates TLS, Django sees plain http: TRUST_X_FORWARDED_PROTO=true believes the
# proxy's X-Forwarded-Proto. Only behind a proxy that always sets (or strips) that header, or clients can fake
# https (Django's SECURE_PROXY_SSL_HEADER docs).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUST_X_FORWARDED_PROTO", False) else None
# stocktool.security.ContentSecurityPolicyMiddleware sends this; {nonce} is new on every response and
# templates put it on their inline scripts (nonce="{{ request.csp_nonce }}"). Inline styles stay allowed:
# templates and the SVG charts use style attributes, which a nonce cannot cover.
CONTENT_SECURITY_POLICY = env_str("CONTENT_SECURITY_POLICY", "; ".join([
    "default-src 'self'", "script-src 'self' 'nonce-{nonce}'", "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:", "connect-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'",
    "frame-ancestors 'none'",
]))
# Messages one user may send to the assistant, counted over the API, the WebSocket and the form together.
CHAT_RATE_LIMIT = env_str("CHAT_RATE_LIMIT", "30/min")  # n/s, n/min, n/h or n/day
if not re.fullmatch(r"[1-9][0-9]*/(s|sec|min|h|hour|day)", CHAT_RATE_LIMIT):
    raise ImproperlyConfigured(f"CHAT_RATE_LIMIT={CHAT_RATE_LIMIT!r} is not a rate like 30/min")

# --- AWS --------------------------------------------------------------------------------------------------
# USE_LOCALSTACK=true (the default) talks to a local emulator: the embedded moto server that `make run`
# starts, or LocalStack. AWS_ENDPOINT_URL (the SDK's own name) overrides the address; with
# USE_LOCALSTACK=false and no endpoint the SDK goes to real AWS.
USE_LOCALSTACK = env_bool("USE_LOCALSTACK", True)
EMBEDDED_EMULATOR_URL = "http://127.0.0.1:4566"
AWS_ENDPOINT_URL = env_url("AWS_ENDPOINT_URL") or (EMBEDDED_EMULATOR_URL if USE_LOCALSTACK else None)
AWS_DEFAULT_REGION = env_str("AWS_DEFAULT_REGION", "us-east-1")
# Emulators accept any key; real AWS takes credentials from the SDK's chain (role, profile) when unset.
_emulated = AWS_ENDPOINT_URL is not None
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="test" if _emulated else "") or None
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="test" if _emulated else "") or None
AWS_SESSION_TOKEN = env.str("AWS_SESSION_TOKEN", default="") or None
AWS_CONNECT_TIMEOUT = env_int("AWS_CONNECT_TIMEOUT", 2, minimum=1)
AWS_READ_TIMEOUT = env_int("AWS_READ_TIMEOUT", 5, minimum=1)
AWS_MAX_ATTEMPTS = env_int("AWS_MAX_ATTEMPTS", 3, minimum=1, maximum=10)
AWS_MAX_POOL_CONNECTIONS = env_int("AWS_MAX_POOL_CONNECTIONS", 50, minimum=1)  # one pool per client, shared by threads
# Circuit breaker (stocktool/aws/breaker.py): after this many failed attempts in a row an endpoint's calls fail
# at once for the reset period, then one trial call decides whether it closes again.
AWS_BREAKER_ENABLED = env_bool("AWS_BREAKER_ENABLED", True)
AWS_BREAKER_FAILURES = env_int("AWS_BREAKER_FAILURES", 3, minimum=1)
AWS_BREAKER_RESET_SECONDS = max(0.1, env_float("AWS_BREAKER_RESET_SECONDS", 5.0))

S3_ENABLED = env_bool("S3_ENABLED", True)
DYNAMODB_ENABLED = env_bool("DYNAMODB_ENABLED", True)
SQS_ENABLED = env_bool("SQS_ENABLED", True)
SNS_ENABLED = env_bool("SNS_ENABLED", True)
CLOUDWATCH_ENABLED = env_bool("CLOUDWATCH_ENABLED", True)

S3_BUCKET_NAME = env_str("S3_BUCKET_NAME", "stocktool-knowledge")
DYNAMODB_TABLE_CONVERSATIONS = env_str("DYNAMODB_TABLE_CONVERSATIONS", "stocktool-conversations")
DYNAMODB_TABLE_CACHE = env_str("DYNAMODB_TABLE_CACHE", "stocktool-stock-cache")
DYNAMODB_TABLE_DJANGO_CACHE = env_str("DYNAMODB_TABLE_DJANGO_CACHE", "stocktool-django-cache")
SQS_QUEUE_ANALYSIS = env_str("SQS_QUEUE_ANALYSIS", "stocktool-analysis-queue")
SQS_QUEUE_ANALYSIS_DLQ = env_str("SQS_QUEUE_ANALYSIS_DLQ", "stocktool-analysis-dlq")
SQS_QUEUE_ANALYSIS_URL = env_url("SQS_QUEUE_ANALYSIS_URL")  # optional; looked up by name when unset
SQS_MAX_RECEIVE_COUNT = env_int("SQS_MAX_RECEIVE_COUNT", 3, minimum=1, maximum=1000)
# How long a received analysis message stays hidden: the time a killed worker's task takes to come back. Tasks
# running longer extend their own messages' visibility (stocktool/visibility.py), so it need not cover the
# slowest task; it bounds the recovery after a crash (docs/deployment.md).
SQS_VISIBILITY_TIMEOUT = env_int("SQS_VISIBILITY_TIMEOUT", 300, minimum=1, maximum=43200)
SNS_TOPIC_NOTIFICATIONS = env_str("SNS_TOPIC_NOTIFICATIONS", "stocktool-notifications")
CLOUDWATCH_NAMESPACE = env_str("CLOUDWATCH_NAMESPACE", "StockTool")
CLOUDWATCH_DASHBOARD = env_str("CLOUDWATCH_DASHBOARD", "stocktool-metrics")
# Metrics go to an in-process buffer; a background thread sends them this often (and at exit).
MONITORING_FLUSH_INTERVAL = env_int("MONITORING_FLUSH_INTERVAL", 5, minimum=1, maximum=60)
MONITORING_BUFFER_SIZE = env_int("MONITORING_BUFFER_SIZE", 50_000, minimum=100)  # data points; oldest dropped
MONITORING_QUEUE_DEPTH_INTERVAL = env_int("MONITORING_QUEUE_DEPTH_INTERVAL", 60)  # seconds; 0: not sampled
# On SIGTERM/SIGINT each process sends its buffered metrics, waiting at most this long for CloudWatch.
MONITORING_SHUTDOWN_SECONDS = env_int("MONITORING_SHUTDOWN_SECONDS", 5, minimum=1, maximum=25)
MONITORING_LATENCY_ALARM_MS = env_int("MONITORING_LATENCY_ALARM_MS", 2000, minimum=1)  # alarm on p90 above
MONITORING_5XX_ALARM_COUNT = env_int("MONITORING_5XX_ALARM_COUNT", 10, minimum=1)  # 5xx in a minute: alarm

# --- Files: knowledge documents live in the versioned bucket (django-storages) -----------------------------
if S3_ENABLED:
    STORAGES = {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": S3_BUCKET_NAME,
                "region_name": AWS_DEFAULT_REGION,
                "endpoint_url": AWS_ENDPOINT_URL,
                "access_key": AWS_ACCESS_KEY_ID,
                "secret_key": AWS_SECRET_ACCESS_KEY,
                # Without these, presigned URLs came out as SigV2 and objects unencrypted.
                "signature_version": "s3v4",
                "addressing_style": "path" if AWS_ENDPOINT_URL else "auto",
                "object_parameters": {"ServerSideEncryption": "AES256"},
                "file_overwrite": True,  # the bucket is versioned: a same-name upload is a new version
                "default_acl": None,
                "querystring_expire": 300,
            },
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
else:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

# --- Knowledge base: S3 events reach the app through this queue (a raw SNS subscription) ------------------
SQS_QUEUE_EVENTS = env_str("SQS_QUEUE_EVENTS", "stocktool-events")
KNOWLEDGE_PREFIX = "knowledge/"  # the documents' key prefix in the bucket (and FileField upload_to)
KNOWLEDGE_DIR = BASE_DIR / "knowledge_base"  # the starter knowledge `sync_kb` uploads by default
KNOWLEDGE_MAX_UPLOAD_MB = env_int("KNOWLEDGE_MAX_UPLOAD_MB", 20, minimum=1, maximum=1024)
KNOWLEDGE_PRESIGNED_SECONDS = env_int("KNOWLEDGE_PRESIGNED_SECONDS", 300, minimum=10, maximum=604800)
# The events listener also compares the bucket with the index this often: it catches deletes whose
# events never come (moto sends none for delete markers) and events lost for any other reason.
# How long a process trusts its in-memory search index before asking the database whether another process
# changed it (each chat turn searches it several times); its own writes show at once.
KNOWLEDGE_INDEX_CHECK_SECONDS = env_float("KNOWLEDGE_INDEX_CHECK_SECONDS", 1.0)
KNOWLEDGE_RECONCILE_SECONDS = env_int("KNOWLEDGE_RECONCILE_SECONDS", 5, minimum=1)
# The search reads meaning too (knowledge/embeddings.py): "local" runs all-MiniLM-L6-v2 on NumPy; "off": BM25.
KNOWLEDGE_EMBEDDINGS = env_str("KNOWLEDGE_EMBEDDINGS", "local", choices=("local", "off"))
KNOWLEDGE_EMBEDDING_MODEL_DIR = env_str("KNOWLEDGE_EMBEDDING_MODEL_DIR", "")

# --- Cache --------------------------------------------------------------------------------------------------
if DYNAMODB_ENABLED:  # the table bootstrap_aws creates; LOCATION names it
    CACHES = {"default": {"BACKEND": "stocktool.aws.cache.DynamoDBCache", "LOCATION": DYNAMODB_TABLE_DJANGO_CACHE}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "stocktool"}}

# --- Celery on SQS ----------------------------------------------------------------------------------------
if SQS_ENABLED:
    if AWS_ENDPOINT_URL:
        _ep = urlsplit(AWS_ENDPOINT_URL)
        _creds = f"{quote(AWS_ACCESS_KEY_ID or '', safe='')}:{quote(AWS_SECRET_ACCESS_KEY or '', safe='')}@"
        CELERY_BROKER_URL = f"sqs://{_creds}{_ep.hostname}:{_ep.port or (443 if _ep.scheme == 'https' else 80)}"
        _broker_secure = _ep.scheme == "https"
    else:
        CELERY_BROKER_URL = "sqs://"  # real AWS; credentials from the SDK's chain
        _broker_secure = True
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CELERY_BROKER_URL = "memory://"
    _broker_secure = False
    CELERY_TASK_ALWAYS_EAGER = True  # the "without AWS" stand-in: tasks run in the caller
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "region": AWS_DEFAULT_REGION,
    "is_secure": _broker_secure,
    # Long polling with no client-side pause: an idle worker picks a new task up within milliseconds.
    "wait_time_seconds": env_int("CELERY_SQS_WAIT_TIME_SECONDS", 20, minimum=0, maximum=20),
    "polling_interval": 0,
    "visibility_timeout": SQS_VISIBILITY_TIMEOUT,
    # kombu's boto3 client (publishing, queue look-ups) with the AWS layer's timeouts; kombu retries a publish
    # itself, so botocore tries once. (The worker's long polls go through kombu's own pycurl client.)
    # SendMessage answers in milliseconds, so 2 s is ample and bounds a publish while SQS hangs.
    "client-config": {"connect_timeout": AWS_CONNECT_TIMEOUT, "read_timeout": min(AWS_READ_TIMEOUT, 2),
                      "retries": {"mode": "standard", "total_max_attempts": 1}},
}
CELERY_TASK_DEFAULT_QUEUE = SQS_QUEUE_ANALYSIS
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_ACKS_ON_FAILURE_OR_TIMEOUT = False  # a failed message stays for the redrive policy (DLQ)
CELERY_TASK_TIME_LIMIT = 240  # a task's message is kept hidden while it runs (stocktool/visibility.py)
CELERY_TASK_SOFT_TIME_LIMIT = 210
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_ENABLE_REMOTE_CONTROL = False  # SQS has no broadcast
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None  # results go through services into the database
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Market data and the scheduled stock refresh: stocktool/settings/market.py ------------------------------
from .market import *  # noqa: E402, F403

# --- Analyses ---------------------------------------------------------------------------------------------
ANALYSIS_RISK_FREE_RATE = env_float("ANALYSIS_RISK_FREE_RATE", 0.0)  # annual, for Sharpe and Sortino
# A request's check that each symbol is listed waits at most this long (then the worker finds out).
ANALYSIS_SYMBOL_CHECK_SECONDS = env_float("ANALYSIS_SYMBOL_CHECK_SECONDS", 0.5)
ANALYSIS_MAX_RETRIES = env_int("ANALYSIS_MAX_RETRIES", 3, minimum=0, maximum=20)  # transient failures
ANALYSIS_RETRY_BACKOFF = env_int("ANALYSIS_RETRY_BACKOFF", 2, minimum=1)  # seconds, doubled each retry
# POST /sns/webhook: an HTTPS subscription for real AWS; every message is signature-checked before use.
SNS_WEBHOOK_ENABLED = env_bool("SNS_WEBHOOK_ENABLED", False)
SNS_WEBHOOK_URL = env_url("SNS_WEBHOOK_URL")  # e.g. https://stocktool.example.com/sns/webhook; bootstrap subscribes it

# --- Assistant --------------------------------------------------------------------------------------------
# local (the default): offline rules over the tools, no key. openai: any OpenAI-compatible endpoint (OpenAI,
# Ollama, vLLM). bedrock: Amazon Bedrock's Converse API, with the app's AWS credentials.
LLM_PROVIDER = env_str("LLM_PROVIDER", "local", choices=("local", "openai", "bedrock"))
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
if LLM_PROVIDER == "openai" and not OPENAI_API_KEY:
    raise ImproperlyConfigured("OPENAI_API_KEY must be set when LLM_PROVIDER=openai")
OPENAI_BASE_URL = env_url("OPENAI_BASE_URL", "https://api.openai.com/v1")
OPENAI_MODEL = env_str("OPENAI_MODEL", "gpt-4o-mini")
OPENAI_TIMEOUT = env_float("OPENAI_TIMEOUT", 30.0)  # seconds to connect, and between two pieces of a stream
OPENAI_MAX_RETRIES = env_int("OPENAI_MAX_RETRIES", 2, maximum=10)  # before the first token only
OPENAI_CONTEXT_TOKENS = env_int("OPENAI_CONTEXT_TOKENS", 16_000, minimum=1000)  # history is trimmed to fit
OPENAI_MAX_TOKENS = env_int("OPENAI_MAX_TOKENS", 800, minimum=16)  # per answer
# No emulator serves bedrock-runtime, so its endpoint is its own setting: unset is AWS's regional endpoint, never
# AWS_ENDPOINT_URL. The web role needs bedrock:InvokeModel(WithResponseStream) on the model (iam_policy).
BEDROCK_MODEL_ID = env_str("BEDROCK_MODEL_ID", "anthropic.claude-3-5-haiku-20241022-v1:0")  # or a profile id
BEDROCK_REGION = env_str("BEDROCK_REGION", AWS_DEFAULT_REGION)
BEDROCK_ENDPOINT_URL = env_url("BEDROCK_ENDPOINT_URL")
BEDROCK_STREAMING = env_bool("BEDROCK_STREAMING", True)  # false: Converse (models without streamed tool use)
BEDROCK_TIMEOUT = env_float("BEDROCK_TIMEOUT", 60.0)  # seconds waiting for data (a whole answer with Converse)
BEDROCK_MAX_ATTEMPTS = env_int("BEDROCK_MAX_ATTEMPTS", 3, minimum=1, maximum=10)  # before the answer starts
BEDROCK_CONTEXT_TOKENS = env_int("BEDROCK_CONTEXT_TOKENS", 16_000, minimum=1000)
BEDROCK_MAX_TOKENS = env_int("BEDROCK_MAX_TOKENS", 800, minimum=16)  # per answer
CHAT_MAX_MESSAGE_CHARS = env_int("CHAT_MAX_MESSAGE_CHARS", 4000, minimum=100, maximum=100_000)
CHAT_CONVERSATION_TTL_HOURS = env_int("CHAT_CONVERSATION_TTL_HOURS", 24, minimum=1)  # the seed: 24 h after the last message

# --- Events and channels ----------------------------------------------------------------------------------
# web: the ASGI server consumes the events queue itself; off: run `python manage.py process_events` instead.
EVENTS_LISTENER = env_str("EVENTS_LISTENER", "web", choices=("web", "off"))
# The transactional outbox (stocktool/outbox.py): the events consumer publishes, every OUTBOX_SWEEP_SECONDS,
# events still unsent OUTBOX_RESEND_AFTER_SECONDS after their change committed (the process that committed
# died or SNS did not answer); sent rows are kept OUTBOX_KEEP_DAYS for inspection.
OUTBOX_SWEEP_SECONDS = env_int("OUTBOX_SWEEP_SECONDS", 15, minimum=1)
OUTBOX_RESEND_AFTER_SECONDS = env_int("OUTBOX_RESEND_AFTER_SECONDS", 30, minimum=0)
OUTBOX_KEEP_DAYS = env_int("OUTBOX_KEEP_DAYS", 7, minimum=1)
# A shared channel layer for several web processes (WebSocket pushes across processes); in-memory otherwise.
REDIS_URL = env.str("REDIS_URL", default="")

# --- Channels, REST ---------------------------------------------------------------------------------------
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
if REDIS_URL:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                  "CONFIG": {"hosts": [REDIS_URL]}}}

REST_FRAMEWORK = {
    # Token first: a request without valid credentials is a 401 with "WWW-Authenticate: Token" (DRF takes the
    # header from the first class), which no browser answers with its own password dialog, as it would Basic's.
    # Session and Basic credentials work as before.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "stocktool.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"user": "120/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "StockTool API",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "DESCRIPTION": "Financial assistant: chat, analyses, knowledge and monitoring.",
    "VERSION": "0.1.0",
}

# --- Demo user created by `make run` ------------------------------------------------------------------------
DEMO_USERNAME = env_str("DEMO_USERNAME", "demo")
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="")

LOG_LEVEL = env_str("LOG_LEVEL", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
LOG_FORMAT = env_str("LOG_FORMAT", "json", choices=("json", "plain"))  # json: one object a line, request id
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # workers log through LOGGING too (JSON lines with the request id)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
        "json": {"()": "monitoring.logs.JsonFormatter"},
    },
    "filters": {"request_id": {"()": "monitoring.logs.RequestIdFilter"}},
    "handlers": {
        # Masks the configured secrets in every line, whatever logged them (botocore at DEBUG shows headers).
        "console": {"class": "stocktool.security.RedactingStreamHandler", "formatter": LOG_FORMAT,
                    "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own console handler (DEBUG only) would print its lines a second time, unformatted.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "botocore": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},  # the openai SDK's HTTP client: a line per request at INFO
    },
}

# The ASGI server serves /static/ itself unless a CDN or proxy does (SERVE_STATIC=false).
SERVE_STATIC = env_bool("SERVE_STATIC", True)
