#!/usr/bin/env bash
# Create StockTool's AWS resources inside LocalStack (the same set as `python manage.py bootstrap_aws`).
# LocalStack runs this once it is ready. Outside the container: AWS_CMD="aws --endpoint-url http://HOST:4566".
set -euo pipefail

AWS_CMD=${AWS_CMD:-awslocal}
REGION=${AWS_DEFAULT_REGION:-us-east-1}
BUCKET=${S3_BUCKET_NAME:-stocktool-knowledge}
T_CONV=${DYNAMODB_TABLE_CONVERSATIONS:-stocktool-conversations}
T_CACHE=${DYNAMODB_TABLE_CACHE:-stocktool-stock-cache}
T_DJANGO=${DYNAMODB_TABLE_DJANGO_CACHE:-stocktool-django-cache}
QUEUE=${SQS_QUEUE_ANALYSIS:-stocktool-analysis-queue}
DLQ=${SQS_QUEUE_ANALYSIS_DLQ:-stocktool-analysis-dlq}
MAX_RECEIVE=${SQS_MAX_RECEIVE_COUNT:-3}
TOPIC=${SNS_TOPIC_NOTIFICATIONS:-stocktool-notifications}
SKIP_DYNAMODB=${SKIP_DYNAMODB:-false}   # LocalStack without Docker has no DynamoDB

aws_() { $AWS_CMD --region "$REGION" --output text "$@"; }

echo "StockTool: creating resources in $REGION"

# S3: versioned, encrypted, private bucket for knowledge documents.
aws_ s3api head-bucket --bucket "$BUCKET" >/dev/null 2>&1 || aws_ s3api create-bucket --bucket "$BUCKET" >/dev/null
aws_ s3api put-bucket-versioning --bucket "$BUCKET" --versioning-configuration Status=Enabled
aws_ s3api put-bucket-encryption --bucket "$BUCKET" --server-side-encryption-configuration \
  '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'
aws_ s3api put-public-access-block --bucket "$BUCKET" --public-access-block-configuration \
  BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true

# DynamoDB: conversations (with the per-user index), the stock-data cache and the Django cache; TTL on.
table() {
  local name=$1; shift
  if ! aws_ dynamodb describe-table --table-name "$name" >/dev/null 2>&1; then
    aws_ dynamodb create-table --table-name "$name" --billing-mode PAY_PER_REQUEST "$@" >/dev/null
    aws_ dynamodb wait table-exists --table-name "$name"
  fi
  if [ "$(aws_ dynamodb describe-time-to-live --table-name "$name" --query TimeToLiveDescription.TimeToLiveStatus)" != "ENABLED" ]; then
    aws_ dynamodb update-time-to-live --table-name "$name" \
      --time-to-live-specification Enabled=true,AttributeName=expires_at >/dev/null
  fi
}
if [ "$SKIP_DYNAMODB" != "true" ]; then
  table "$T_CONV" \
    --attribute-definitions AttributeName=conversation_id,AttributeType=S AttributeName=timestamp,AttributeType=S \
      AttributeName=user_id,AttributeType=S AttributeName=updated_at,AttributeType=S \
    --key-schema AttributeName=conversation_id,KeyType=HASH AttributeName=timestamp,KeyType=RANGE \
    --global-secondary-indexes '[{"IndexName":"user-index","KeySchema":[{"AttributeName":"user_id","KeyType":"HASH"},{"AttributeName":"updated_at","KeyType":"RANGE"}],"Projection":{"ProjectionType":"ALL"}}]'
  table "$T_CACHE" \
    --attribute-definitions AttributeName=symbol,AttributeType=S AttributeName=data_type,AttributeType=S \
    --key-schema AttributeName=symbol,KeyType=HASH AttributeName=data_type,KeyType=RANGE
  table "$T_DJANGO" \
    --attribute-definitions AttributeName=cache_key,AttributeType=S \
    --key-schema AttributeName=cache_key,KeyType=HASH
fi

# SQS: the analysis queue (Celery's broker) with its dead-letter queue.
DLQ_URL=$(aws_ sqs create-queue --queue-name "$DLQ" --attributes MessageRetentionPeriod=1209600 --query QueueUrl)
DLQ_ARN=$(aws_ sqs get-queue-attributes --queue-url "$DLQ_URL" --attribute-names QueueArn --query Attributes.QueueArn)
ATTRS=$(printf '{"VisibilityTimeout":"300","MessageRetentionPeriod":"86400","ReceiveMessageWaitTimeSeconds":"20","RedrivePolicy":"{\\"deadLetterTargetArn\\":\\"%s\\",\\"maxReceiveCount\\":\\"%s\\"}"}' "$DLQ_ARN" "$MAX_RECEIVE")
if QUEUE_URL=$(aws_ sqs get-queue-url --queue-name "$QUEUE" --query QueueUrl 2>/dev/null); then
  aws_ sqs set-queue-attributes --queue-url "$QUEUE_URL" --attributes "$ATTRS"
else
  aws_ sqs create-queue --queue-name "$QUEUE" --attributes "$ATTRS" >/dev/null
fi

# SNS: the notifications topic.
aws_ sns create-topic --name "$TOPIC" >/dev/null

# --- Knowledge base: S3 events -> the topic -> the events queue (raw delivery), as `bootstrap_aws` wires them.
# The queue's default name carries the same prefix as the analysis queue's (none outside tests).
EVENTS_QUEUE=${SQS_QUEUE_EVENTS:-${QUEUE%stocktool-analysis-queue}stocktool-events}
KB_PREFIX=${KNOWLEDGE_PREFIX:-knowledge/}
KB_TOPIC_ARN=$(aws_ sns create-topic --name "$TOPIC" --query TopicArn)
KB_ACCOUNT=$(printf '%s' "$KB_TOPIC_ARN" | cut -d: -f5)
if ! EV_URL=$(aws_ sqs get-queue-url --queue-name "$EVENTS_QUEUE" --query QueueUrl 2>/dev/null); then
  EV_URL=$(aws_ sqs create-queue --queue-name "$EVENTS_QUEUE" \
    --attributes VisibilityTimeout=60,MessageRetentionPeriod=86400 --query QueueUrl)
fi
EV_ARN=$(aws_ sqs get-queue-attributes --queue-url "$EV_URL" --attribute-names QueueArn --query Attributes.QueueArn)
aws_ sqs set-queue-attributes --queue-url "$EV_URL" --attributes "$(printf '{"Policy":"{\\"Version\\":\\"2012-10-17\\",\\"Statement\\":[{\\"Sid\\":\\"topic-sends\\",\\"Effect\\":\\"Allow\\",\\"Principal\\":{\\"Service\\":\\"sns.amazonaws.com\\"},\\"Action\\":\\"sqs:SendMessage\\",\\"Resource\\":\\"%s\\",\\"Condition\\":{\\"ArnEquals\\":{\\"aws:SourceArn\\":\\"%s\\"}}}]}"}' "$EV_ARN" "$KB_TOPIC_ARN")"
if [ -z "$(aws_ sns list-subscriptions-by-topic --topic-arn "$KB_TOPIC_ARN" --query "Subscriptions[?Endpoint=='$EV_ARN'].SubscriptionArn")" ]; then
  aws_ sns subscribe --topic-arn "$KB_TOPIC_ARN" --protocol sqs --notification-endpoint "$EV_ARN" \
    --attributes RawMessageDelivery=true >/dev/null
fi
aws_ sns set-topic-attributes --topic-arn "$KB_TOPIC_ARN" --attribute-name Policy --attribute-value "$(printf '{"Version":"2008-10-17","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":"%s","Condition":{"StringEquals":{"AWS:SourceOwner":"%s"}}},{"Sid":"bucket-publishes","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"SNS:Publish","Resource":"%s","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::%s"}}}]}' "$KB_TOPIC_ARN" "$KB_ACCOUNT" "$KB_TOPIC_ARN" "$BUCKET")"
aws_ s3api put-bucket-notification-configuration --bucket "$BUCKET" --notification-configuration "$(printf '{"TopicConfigurations":[{"Id":"stocktool-knowledge-events","TopicArn":"%s","Events":["s3:ObjectCreated:*","s3:ObjectRemoved:*"],"Filter":{"Key":{"FilterRules":[{"Name":"prefix","Value":"%s"}]}}}]}' "$KB_TOPIC_ARN" "$KB_PREFIX")"

echo "StockTool: resources ready"
