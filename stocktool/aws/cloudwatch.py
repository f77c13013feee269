"""CloudWatch: StockTool's metrics (namespace ``StockTool``)."""

from botocore.exceptions import BotoCoreError, ClientError

from .errors import translate
from .session import client

MAX_DATUMS_PER_CALL = 1000


class CloudWatchService:
    def __init__(self, namespace: str):
        self.namespace = namespace

    def put_metric_data(self, metric_data: list[dict]) -> None:
        """Send ``metric_data`` in calls within PutMetricData's limits."""
        try:
            for start in range(0, len(metric_data), MAX_DATUMS_PER_CALL):
                client("cloudwatch").put_metric_data(
                    Namespace=self.namespace, MetricData=metric_data[start:start + MAX_DATUMS_PER_CALL]
                )
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, f"put metrics to {self.namespace}") from exc

    def ping(self, purpose: str = "probe") -> None:
        client("cloudwatch", purpose=purpose).list_dashboards(DashboardNamePrefix="stocktool")
