"""Provisioning: creating and converging StockTool's AWS resources, apart from the code that uses them.

- ``bootstrap``: every resource, idempotently (``python manage.py bootstrap_aws``, ``make run``, the tests);
- ``resources``: the bucket, the tables, the queues, the topic and its webhook subscription;
- ``knowledge_events``: S3 events of the knowledge documents, bucket -> topic -> events queue;
- ``monitoring``: the CloudWatch dashboard and alarms;
- ``lambdas``: the Lambda functions' roles, code and EventBridge schedules (``deploy_lambdas``);
- ``iam_policy``: the least-privilege IAM policy of each role (``python manage.py iam_policy``).

It uses the AWS layer (``stocktool.aws``: the clients, the errors); nothing in that layer uses it.
"""
