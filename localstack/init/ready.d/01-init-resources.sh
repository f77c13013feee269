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
VISIBILITY=${SQS_VISIBILITY_TIMEOUT:-300}
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
ATTRS=$(printf '{"VisibilityTimeout":"%s","MessageRetentionPeriod":"86400","ReceiveMessageWaitTimeSeconds":"20","RedrivePolicy":"{\\"deadLetterTargetArn\\":\\"%s\\",\\"maxReceiveCount\\":\\"%s\\"}"}' "$VISIBILITY" "$DLQ_ARN" "$MAX_RECEIVE")
if QUEUE_URL=$(aws_ sqs get-queue-url --queue-name "$QUEUE" --query QueueUrl 2>/dev/null); then
  aws_ sqs set-queue-attributes --queue-url "$QUEUE_URL" --attributes "$ATTRS"
else
  aws_ sqs create-queue --queue-name "$QUEUE" --attributes "$ATTRS" >/dev/null
fi

# SNS: the notifications topic.
TOPIC_ARN=$(aws_ sns create-topic --name "$TOPIC" --query TopicArn)

# CloudWatch: the metrics dashboard and the alarms, which notify the topic (as `bootstrap_aws` makes them).
NAMESPACE=${CLOUDWATCH_NAMESPACE:-StockTool}
DASHBOARD=${CLOUDWATCH_DASHBOARD:-stocktool-metrics}
LATENCY_ALARM_MS=${MONITORING_LATENCY_ALARM_MS:-2000}
ERRORS_ALARM_COUNT=${MONITORING_5XX_ALARM_COUNT:-10}
# Alarm names start with the prefix the resource names share, up to its last dash ("stocktool-").
prefix_of() {
  local p=$1 n
  shift
  for n in "$@"; do
    while [ -n "$p" ] && [ "${n#"$p"}" = "$n" ]; do p=${p%?}; done
  done
  case $p in *-*) printf '%s' "${p%-*}-" ;; esac
}
PREFIX=$(prefix_of "$BUCKET" "$T_CONV" "$T_CACHE" "$QUEUE" "$DLQ" "$TOPIC")

DASHBOARD_BODY=$(cat <<EOF
{"widgets":[
  {"type":"metric","x":0,"y":0,"width":12,"height":6,"properties":{"title":"API latency, all routes (ms)","region":"${REGION}","view":"timeSeries","stat":"Average","period":60,"metrics":[["${NAMESPACE}","APILatencyAll",{"stat":"p50","label":"p50"}],["${NAMESPACE}","APILatencyAll",{"stat":"p90","label":"p90"}],["${NAMESPACE}","APILatencyAll",{"stat":"Average","label":"average"}]],"annotations":{"horizontal":[{"label":"alarm: p90","value":${LATENCY_ALARM_MS}}]}}},
  {"type":"metric","x":12,"y":0,"width":12,"height":6,"properties":{"title":"Requests and 5xx errors","region":"${REGION}","view":"timeSeries","stat":"Average","period":60,"metrics":[["${NAMESPACE}","APILatencyAll",{"stat":"SampleCount","label":"requests"}],["${NAMESPACE}","Errors",{"stat":"Sum","label":"5xx"}]]}},
  {"type":"metric","x":0,"y":6,"width":12,"height":6,"properties":{"title":"API latency by route (ms)","region":"${REGION}","view":"timeSeries","stat":"Average","period":60,"metrics":[[{"expression":"SEARCH('{\"${NAMESPACE}\",Method,Route,StatusClass} MetricName=\"APILatency\"', 'Average', 60)","id":"e1","label":""}]]}},
  {"type":"metric","x":12,"y":6,"width":12,"height":6,"properties":{"title":"Tool execution time (ms)","region":"${REGION}","view":"timeSeries","stat":"Average","period":60,"metrics":[[{"expression":"SEARCH('{\"${NAMESPACE}\",Success,Tool} MetricName=\"ToolExecutionTime\"', 'Average', 60)","id":"e1","label":""}]]}},
  {"type":"metric","x":0,"y":12,"width":12,"height":6,"properties":{"title":"Cache hit rate (%)","region":"${REGION}","view":"timeSeries","stat":"Average","period":60,"metrics":[[{"expression":"SEARCH('{\"${NAMESPACE}\",Cache} MetricName=\"CacheHitRate\"', 'Average', 60)","id":"e1","label":""}]]}},
  {"type":"metric","x":12,"y":12,"width":12,"height":6,"properties":{"title":"Model tokens","region":"${REGION}","view":"timeSeries","stat":"Sum","period":60,"metrics":[[{"expression":"SEARCH('{\"${NAMESPACE}\",Model} MetricName=\"ModelTokens\"', 'Sum', 60)","id":"e1","label":""}]]}},
  {"type":"metric","x":0,"y":18,"width":12,"height":6,"properties":{"title":"Model latency (ms)","region":"${REGION}","view":"timeSeries","stat":"Average","period":60,"metrics":[[{"expression":"SEARCH('{\"${NAMESPACE}\",Model} MetricName=\"ModelLatency\"', 'Average', 60)","id":"e1","label":""}]]}},
  {"type":"metric","x":12,"y":18,"width":12,"height":6,"properties":{"title":"Queue depth","region":"${REGION}","view":"timeSeries","stat":"Maximum","period":60,"metrics":[["${NAMESPACE}","QueueDepth","Queue","analysis",{"stat":"Maximum","label":"analysis"}],["${NAMESPACE}","QueueDepth","Queue","dlq",{"stat":"Maximum","label":"dead letters"}]]}}
]}
EOF
)
aws_ cloudwatch put-dashboard --dashboard-name "$DASHBOARD" --dashboard-body "$DASHBOARD_BODY" >/dev/null

alarm() {
  aws_ cloudwatch put-metric-alarm --namespace "$NAMESPACE" --period 60 --treat-missing-data notBreaching \
    --actions-enabled --alarm-actions "$TOPIC_ARN" "$@"
}
alarm --alarm-name "${PREFIX}api-latency-p90" \
  --alarm-description "API latency p90 over $LATENCY_ALARM_MS ms for 3 minutes" \
  --metric-name APILatencyAll --extended-statistic p90 --evaluation-periods 3 --datapoints-to-alarm 3 \
  --threshold "$LATENCY_ALARM_MS" --comparison-operator GreaterThanThreshold
alarm --alarm-name "${PREFIX}dlq-not-empty" --alarm-description "A message is in the analysis dead-letter queue" \
  --metric-name QueueDepth --dimensions Name=Queue,Value=dlq --statistic Maximum \
  --evaluation-periods 1 --datapoints-to-alarm 1 --threshold 0 --comparison-operator GreaterThanThreshold
alarm --alarm-name "${PREFIX}5xx-burst" \
  --alarm-description "$ERRORS_ALARM_COUNT or more 5xx responses within a minute" \
  --metric-name Errors --statistic Sum --evaluation-periods 1 --datapoints-to-alarm 1 \
  --threshold "$ERRORS_ALARM_COUNT" --comparison-operator GreaterThanOrEqualToThreshold

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
# Only S3 object events and the app events the consumer acts on reach the queue (body-scoped filter; moto
# lacks `$or`, so there the queue stays unfiltered: bootstrap_aws does the same).
EV_SUB=$(aws_ sns list-subscriptions-by-topic --topic-arn "$KB_TOPIC_ARN" --query "Subscriptions[?Endpoint=='$EV_ARN'].SubscriptionArn")
if aws_ sns set-subscription-attributes --subscription-arn "$EV_SUB" --attribute-name FilterPolicyScope \
     --attribute-value MessageBody 2>/dev/null; then
  aws_ sns set-subscription-attributes --subscription-arn "$EV_SUB" --attribute-name FilterPolicy \
    --attribute-value '{"$or": [{"event_type": ["analysis_finished"]}, {"Records": {"eventSource": ["aws:s3"]}}]}' \
    2>/dev/null || echo "StockTool: this endpoint has no body-scoped filter policies; the events queue stays unfiltered"
fi
aws_ sns set-topic-attributes --topic-arn "$KB_TOPIC_ARN" --attribute-name Policy --attribute-value "$(printf '{"Version":"2008-10-17","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":"%s","Condition":{"StringEquals":{"AWS:SourceOwner":"%s"}}},{"Sid":"bucket-publishes","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"SNS:Publish","Resource":"%s","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::%s"}}}]}' "$KB_TOPIC_ARN" "$KB_ACCOUNT" "$KB_TOPIC_ARN" "$BUCKET")"
aws_ s3api put-bucket-notification-configuration --bucket "$BUCKET" --notification-configuration "$(printf '{"TopicConfigurations":[{"Id":"stocktool-knowledge-events","TopicArn":"%s","Events":["s3:ObjectCreated:*","s3:ObjectRemoved:*"],"Filter":{"Key":{"FilterRules":[{"Name":"prefix","Value":"%s"}]}}}]}' "$KB_TOPIC_ARN" "$KB_PREFIX")"

echo "StockTool: resources ready"
