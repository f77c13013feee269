"""Least-privilege IAM policies for StockTool's roles, built from the configured resource names.

``python manage.py iam_policy --role web|worker|lambda|bootstrap|all`` prints them.

- ``web``: pages, API, admin, WebSockets, health checks and the events listener: knowledge documents on S3,
  conversations, the stock-data and Django caches, sending analyses, reading metrics back, and with
  ``LLM_PROVIDER=bedrock`` invoking the configured Bedrock model.
- ``worker``: Celery workers (the analysis queue, the stock-data cache, publishing notifications) and the
  operator's ``redrive_dlq``.
- ``lambda``: the execution role of the functions ``deploy_lambdas`` ships (it attaches this policy).
- ``bootstrap``: an administrator running ``bootstrap_aws`` and ``deploy_lambdas``. Only this role creates or
  reconfigures resources; web, worker and lambda can use them and nothing more.

Every statement names configured resources only. The exceptions are the actions for which AWS has no
resource-level permission at all (``UNSCOPED``, with the reason): IAM accepts them only with
``"Resource": "*"``, and PutMetricData is held to the app's namespace by the ``cloudwatch:namespace``
condition. STS GetCallerIdentity (used to learn the account id) needs no permission.
"""

from django.conf import settings

from .lambdas import account_id, names, partition
from .monitoring import alarm_names
from .resources import table_specs

ROLES = ("web", "worker", "lambda", "bootstrap")
VERSION = "2012-10-17"

# Actions IAM cannot scope to a resource: https://docs.aws.amazon.com/service-authorization/latest/reference/
UNSCOPED = {
    "cloudwatch:PutMetricData": "no resource type; a cloudwatch:namespace condition keeps it to the app's",
    "cloudwatch:GetMetricStatistics": "no resource type (read-only): the monitoring page reads the metrics",
    "cloudwatch:ListMetrics": "no resource type (read-only): the monitoring page finds the dimensions",
    "cloudwatch:ListDashboards": "no resource type (read-only): the health check's CloudWatch probe",
    "sns:ListTopics": "no resource type (read-only): the topic's ARN is looked up by its name",
    "sns:GetSubscriptionAttributes": "no resource type: bootstrap checks the events queue's subscription",
    "sns:SetSubscriptionAttributes": "no resource type: bootstrap turns raw delivery on for it",
}


def resources(account: str, functions: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """ARNs of the configured resources, by role in the app."""
    p, region = partition(), settings.AWS_DEFAULT_REGION

    def table(name: str) -> str:
        return f"arn:{p}:dynamodb:{region}:{account}:table/{name}"

    def queue(name: str) -> str:
        return f"arn:{p}:sqs:{region}:{account}:{name}"

    indexes = {
        spec["TableName"]: [f"{table(spec['TableName'])}/index/{gsi['IndexName']}"
                            for gsi in spec.get("GlobalSecondaryIndexes", [])]
        for spec in table_specs()
    }
    bucket = f"arn:{p}:s3:::{settings.S3_BUCKET_NAME}"
    fn = [names(key) for key in functions]
    log_groups = [f"arn:{p}:logs:{region}:{account}:log-group:{n.log_group}" for n in fn]
    return {
        "bucket": [bucket],
        "objects": [f"{bucket}/*"],
        "conversations": [table(settings.DYNAMODB_TABLE_CONVERSATIONS)],
        "conversations_indexes": indexes.get(settings.DYNAMODB_TABLE_CONVERSATIONS, []),
        "stock_cache": [table(settings.DYNAMODB_TABLE_CACHE)],
        "django_cache": [table(settings.DYNAMODB_TABLE_DJANGO_CACHE)],
        "tables": [table(spec["TableName"]) for spec in table_specs()],
        "analysis_queue": [queue(settings.SQS_QUEUE_ANALYSIS)],
        "dead_letter_queue": [queue(settings.SQS_QUEUE_ANALYSIS_DLQ)],
        "events_queue": [queue(settings.SQS_QUEUE_EVENTS)],
        "topic": [f"arn:{p}:sns:{region}:{account}:{settings.SNS_TOPIC_NOTIFICATIONS}"],
        "dashboard": [f"arn:{p}:cloudwatch::{account}:dashboard/{settings.CLOUDWATCH_DASHBOARD}"],
        "alarms": [f"arn:{p}:cloudwatch:{region}:{account}:alarm:{name}" for name in alarm_names().values()],
        "functions": [f"arn:{p}:lambda:{region}:{account}:function:{n.function}" for n in fn],
        "rules": [f"arn:{p}:events:{region}:{account}:rule/{n.rule}" for n in fn],
        "roles": [settings.LAMBDA_ROLE_ARN] if settings.LAMBDA_ROLE_ARN else
                 [f"arn:{p}:iam::{account}:role/{n.role}" for n in fn],
        "log_groups": log_groups + [f"{group}:*" for group in log_groups],
        "models": bedrock_models(account) if settings.LLM_PROVIDER == "bedrock" else [],
    }


# Model ids of cross-region inference profiles start with one of these ("us.anthropic.claude-..."):
# https://docs.aws.amazon.com/bedrock/latest/userguide/inference-profiles-support.html
PROFILE_PREFIXES = ("us", "eu", "apac", "us-gov", "ca", "jp", "au", "global")


def bedrock_models(account: str) -> list[str]:
    """ARNs that invoking BEDROCK_MODEL_ID is authorised on: the foundation model, or an inference profile and
    the models it routes to (in any region the profile picks)."""
    model, region = settings.BEDROCK_MODEL_ID, settings.BEDROCK_REGION
    p = partition(region)
    if model.startswith("arn:"):
        return [model]
    prefix, _, base = model.partition(".")
    if prefix in PROFILE_PREFIXES:
        return [f"arn:{p}:bedrock:{region}:{account}:inference-profile/{model}",
                f"arn:{p}:bedrock:*::foundation-model/{base}"]
    return [f"arn:{p}:bedrock:{region}::foundation-model/{model}"]


def _allow(sid: str, service: str, actions: str, resources: list[str], condition: dict | None = None) -> dict:
    """One Allow statement: ``actions`` are the service's action names, separated by spaces."""
    statement: dict[str, object] = {"Sid": sid, "Effect": "Allow", "Action": sorted(f"{service}:{a}" for a in actions.split()),
                 "Resource": resources[0] if len(resources) == 1 else resources}
    if condition:
        statement["Condition"] = condition
    return statement


def _metrics_put() -> dict:
    return _allow("CloudWatchPutAppMetrics", "cloudwatch", "PutMetricData", ["*"],
                  {"StringEquals": {"cloudwatch:namespace": settings.CLOUDWATCH_NAMESPACE}})


def _web(r: dict) -> list[dict]:
    return [
        _allow("KnowledgeObjects", "s3",
               "GetObject GetObjectVersion PutObject DeleteObject DeleteObjectVersion AbortMultipartUpload",
               r["objects"]),
        _allow("KnowledgeBucket", "s3", "ListBucket ListBucketVersions", r["bucket"]),
        _allow("Conversations", "dynamodb",
               "GetItem PutItem UpdateItem DeleteItem Query BatchGetItem BatchWriteItem DescribeTable",
               r["conversations"]),
        _allow("ConversationsByUser", "dynamodb", "Query", r["conversations_indexes"]),
        _allow("StockDataCache", "dynamodb", "GetItem PutItem DescribeTable", r["stock_cache"]),
        _allow("DjangoCache", "dynamodb",
               "GetItem PutItem UpdateItem DeleteItem BatchGetItem BatchWriteItem Scan", r["django_cache"]),
        _allow("AnalysisQueueSend", "sqs", "SendMessage GetQueueUrl GetQueueAttributes", r["analysis_queue"]),
        _allow("DeadLetterDepth", "sqs", "GetQueueUrl GetQueueAttributes", r["dead_letter_queue"]),
        _allow("EventsQueueConsume", "sqs", "ReceiveMessage DeleteMessage GetQueueUrl", r["events_queue"]),
        _allow("NotificationsTopicProbe", "sns", "GetTopicAttributes", r["topic"]),
        _allow("UnscopedSnsReads", "sns", "ListTopics", ["*"]),
        _allow("UnscopedMetricReads", "cloudwatch", "GetMetricStatistics ListMetrics ListDashboards", ["*"]),
        _metrics_put(),
        # Converse and ConverseStream authorise as these two (no statement unless LLM_PROVIDER=bedrock).
        _allow("ChatModel", "bedrock", "InvokeModel InvokeModelWithResponseStream", r["models"]),
    ]


def _worker(r: dict) -> list[dict]:
    return [
        _allow("AnalysisQueueConsume", "sqs",
               "ReceiveMessage DeleteMessage ChangeMessageVisibility SendMessage GetQueueUrl "
               "GetQueueAttributes", r["analysis_queue"]),
        # Depth sampling, and redrive_dlq: it moves dead letters back to the analysis queue.
        _allow("DeadLetters", "sqs", "ReceiveMessage DeleteMessage ChangeMessageVisibility GetQueueUrl "
               "GetQueueAttributes", r["dead_letter_queue"]),
        _allow("StockDataCache", "dynamodb", "GetItem PutItem DeleteItem", r["stock_cache"]),
        _allow("NotificationsPublish", "sns", "Publish", r["topic"]),
        _allow("UnscopedSnsReads", "sns", "ListTopics", ["*"]),
        _metrics_put(),
    ]


def _lambda(r: dict) -> list[dict]:
    return [
        _allow("StockDataCache", "dynamodb", "GetItem PutItem DeleteItem", r["stock_cache"]),
        _allow("OwnLogs", "logs", "CreateLogGroup CreateLogStream PutLogEvents", r["log_groups"]),
    ]


def _bootstrap(r: dict) -> list[dict]:
    statements = [
        _allow("Bucket", "s3", "CreateBucket ListBucket GetBucketVersioning PutBucketVersioning "
               "GetEncryptionConfiguration PutEncryptionConfiguration GetBucketPublicAccessBlock "
               "PutBucketPublicAccessBlock GetBucketNotification PutBucketNotification", r["bucket"]),
        _allow("Tables", "dynamodb", "CreateTable DescribeTable DescribeTimeToLive UpdateTimeToLive",
               r["tables"]),
        _allow("Queues", "sqs", "CreateQueue GetQueueUrl GetQueueAttributes SetQueueAttributes",
               r["analysis_queue"] + r["dead_letter_queue"] + r["events_queue"]),
        _allow("Topic", "sns",
               "CreateTopic GetTopicAttributes SetTopicAttributes Subscribe ListSubscriptionsByTopic",
               r["topic"]),
        _allow("UnscopedSns", "sns", "ListTopics GetSubscriptionAttributes SetSubscriptionAttributes", ["*"]),
        _allow("Dashboard", "cloudwatch", "GetDashboard PutDashboard", r["dashboard"]),
        _allow("Alarms", "cloudwatch", "DescribeAlarms PutMetricAlarm", r["alarms"]),
    ]
    if r["functions"]:
        statements += [
            _allow("Functions", "lambda", "GetFunction CreateFunction UpdateFunctionCode "
                   "UpdateFunctionConfiguration GetPolicy AddPermission RemovePermission", r["functions"]),
            _allow("Schedules", "events", "DescribeRule PutRule PutTargets ListTargetsByRule", r["rules"]),
            _allow("PassFunctionRoles", "iam", "PassRole", r["roles"],
                   {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
        ]
        if not settings.LAMBDA_ROLE_ARN:  # deploy_lambdas creates and maintains the roles itself
            statements.append(_allow("FunctionRoles", "iam", "GetRole CreateRole UpdateAssumeRolePolicy "
                                     "GetRolePolicy PutRolePolicy", r["roles"]))
    return statements


_BUILDERS = {"web": _web, "worker": _worker, "lambda": _lambda, "bootstrap": _bootstrap}


def policy(role: str, *, account: str | None = None, functions: tuple[str, ...] = ()) -> dict:
    """The IAM policy document of ``role`` (see ROLES); ``functions`` are the Lambda functions' keys."""
    if role not in _BUILDERS:
        raise ValueError(f"unknown role {role!r} (use one of {', '.join(ROLES)})")
    r = resources(account or account_id(), functions)
    return {"Version": VERSION, "Statement": [s for s in _BUILDERS[role](r) if s["Resource"]]}


def policies(*, account: str | None = None, functions: tuple[str, ...] = ()) -> dict[str, dict]:
    account = account or account_id()
    return {role: policy(role, account=account, functions=functions) for role in ROLES}
