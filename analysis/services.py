"""Analysis jobs: request one (API, page, chat tool), run it (the Celery task), record the outcome."""

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor, wait
from functools import lru_cache

from django.conf import settings
from django.db import OperationalError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from rapidfuzz import fuzz, process

from stocktool import aws
from stocktool.aws import AWSError, AWSUnavailable

from . import market_data, risk
from .market_data.errors import MarketDataError, ProviderUnavailable, RateLimited
from .market_data.validation import period_normalize, symbol_normalize
from .models import AnalysisJob
from .publish import analysis_finished_announce, analysis_finished_resend

logger = logging.getLogger(__name__)

MAX_SYMBOLS = 25
BENCHMARK = "SPY"
# Failures worth another try: the provider, AWS or the database being down, slow, throttling or locked.
# Anything else fails the job at once.
TRANSIENT_ERRORS = (ProviderUnavailable, RateLimited, ConnectionError, TimeoutError, OperationalError, AWSUnavailable)


class AnalysisRequestError(ValueError):
    """The request cannot become a job (bad symbols, weights, type or period); ``field`` names the input at
    fault, where one is."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class AnalysisUnavailable(RuntimeError):
    """The job could not be handed to the worker (the queue is not answering); nothing was kept."""


QUEUE_DOWN = "The analysis queue is not answering, so the analysis was not started; please try again in a moment."
# kombu retries a publish this way before giving up (each attempt also bounded by the client's timeouts and
# refused at once while the SQS circuit is open).
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0.2, "interval_step": 0.3, "interval_max": 0.5}


def analysis_validate(*, symbols, weights=None, analysis_type="risk_assessment", period="1y") -> dict:
    """Return clean parameters or raise AnalysisRequestError with one readable line, naming its field.

    Symbols the market-data provider does not list are refused here, with the closest listed ones, rather
    than queued to fail in the worker; if the provider cannot be asked, the worker finds out.
    """
    if isinstance(symbols, str):
        symbols = [s for s in symbols.replace(",", " ").split() if s]
    if not isinstance(symbols, list | tuple) or not symbols:
        raise AnalysisRequestError("give at least one ticker symbol", "symbols")
    try:
        clean = [symbol_normalize(s) for s in symbols]
    except MarketDataError as exc:
        raise AnalysisRequestError(str(exc), "symbols") from None
    try:
        period = period_normalize(period)
    except MarketDataError as exc:
        raise AnalysisRequestError(str(exc), "period") from None
    if len(set(clean)) != len(clean):
        raise AnalysisRequestError("each symbol may appear only once", "symbols")
    if len(clean) > MAX_SYMBOLS:
        raise AnalysisRequestError(f"at most {MAX_SYMBOLS} symbols per analysis", "symbols")
    if analysis_type not in AnalysisJob.Type.values:
        raise AnalysisRequestError(f"analysis_type must be one of {', '.join(AnalysisJob.Type.values)}",
                                   "analysis_type")
    if analysis_type == AnalysisJob.Type.CORRELATION and len(clean) < 2:
        raise AnalysisRequestError("a correlation needs at least two symbols", "symbols")
    if period in ("1d", "5d"):
        raise AnalysisRequestError("choose a period of at least 1mo for an analysis", "period")
    if weights is not None:
        try:
            weights = [float(w) for w in weights]
            risk.normalise_weights(clean, weights)
        except (TypeError, ValueError) as exc:
            raise AnalysisRequestError(f"weights: {exc}", "weights") from None
    # (0 s turns the check off; with the queue known down the request is refused anyway, at once)
    if settings.ANALYSIS_SYMBOL_CHECK_SECONDS > 0 and (not settings.SQS_ENABLED or aws.available("sqs")):
        _listed_check(clean)
    return {"symbols": clean, "weights": weights, "analysis_type": analysis_type, "period": period}


_LISTED: dict[str, float] = {}  # symbol -> until when this process knows it is listed (no read needed)
LISTED_MEMO_SECONDS = 3600


def _listed_check(symbols: list[str]) -> None:
    def check(symbol: str) -> list[str] | None | MarketDataError:
        try:
            close = market_data.symbol_check(symbol)
        except MarketDataError as exc:
            return exc
        if close is None:
            if len(_LISTED) > 10_000:
                _LISTED.clear()
            _LISTED[symbol] = time.monotonic() + LISTED_MEMO_SECONDS
        return close

    asked = symbols
    now = time.monotonic()
    symbols = [s for s in symbols if _LISTED.get(s, 0) < now]  # an unlisted symbol is asked about every time
    if not symbols:
        return

    problems = []
    # Each check is a stock-data cache read (a provider search on a miss): side by side, as the worker does, and
    # within a deadline: when DynamoDB or the provider is slow, the request goes on and the worker finds out.
    futures = [_price_pool().submit(check, symbol) for symbol in symbols]
    done, late = wait(futures, timeout=settings.ANALYSIS_SYMBOL_CHECK_SECONDS)
    if late:
        logger.info("the listing check of %s took longer than %.1f s; left to the worker", symbols,
                    settings.ANALYSIS_SYMBOL_CHECK_SECONDS)
        return
    for symbol, future in zip(symbols, futures, strict=True):
        close = future.result()
        if isinstance(close, MarketDataError):  # the provider is down or rate-limited: the worker will find out
            logger.info("could not check %s with the market-data provider: %s", symbol, close)
            return
        if close is not None:
            if not close:  # the search found nothing near: the listed symbols most alike in spelling ("APPL")
                close = [found for found, _, _ in process.extract(symbol, market_data.listed_symbols(),
                                                                  scorer=fuzz.ratio, limit=3, score_cutoff=50)]
            others = [c for c in close if c not in asked]
            problems.append(f"{symbol} is not a listed symbol" + (f" (did you mean {' or '.join(others)}?)"
                                                                   if others else ""))
    if problems:
        raise AnalysisRequestError("; ".join(problems), "symbols")


def analysis_request(*, user, symbols, weights=None, analysis_type="risk_assessment", period="1y") -> AnalysisJob:
    """Create a queued job and send it to the worker once the transaction commits.

    If the queue does not take the message, the job is deleted and AnalysisUnavailable raised: a job the
    caller was told about is always on the queue.
    """
    params = analysis_validate(symbols=symbols, weights=weights, analysis_type=analysis_type, period=period)
    sent = []
    with transaction.atomic():
        job = AnalysisJob.objects.create(user=user if getattr(user, "is_authenticated", False) else None, **params)
        transaction.on_commit(lambda: sent.append(_enqueue(job)))
    if sent == [False]:
        raise AnalysisUnavailable(QUEUE_DOWN)
    return job


@lru_cache(maxsize=1)
def _broker_errors(app) -> tuple[type[BaseException], ...]:
    """What a failed publish raises: kombu's OperationalError, the transport's connection and channel errors
    (botocore's on SQS), and this layer's AWSError."""
    with app.connection_for_write() as connection:  # not connected: only its transport's error classes
        return (BrokerError, AWSError, *connection.connection_errors, *connection.channel_errors)


def _enqueue(job: AnalysisJob) -> bool:
    from .tasks import analysis_run_task  # (tasks.py imports this module: a cycle)

    try:
        if settings.SQS_ENABLED and not aws.available("sqs"):
            # Known down: fail now rather than queue up for kombu's producer pool behind publishes that wait.
            raise AWSUnavailable("SQS is not answering (circuit open)")
        analysis_run_task.apply_async(args=[str(job.id)], retry=True, retry_policy=PUBLISH_RETRY)
    except Exception as exc:  # the broker did not take it
        if isinstance(exc, _broker_errors(analysis_run_task.app)):
            logger.warning("analysis %s not queued, so not kept: %s", job.id, exc)
        else:  # e.g. kombu 5.7's channel closed under a publish by another thread's reconnect (AttributeError)
            logger.exception("analysis %s not queued, so not kept: unexpected error from the broker client", job.id)
        AnalysisJob.objects.filter(pk=job.pk, status=AnalysisJob.Status.QUEUED).delete()
        return False
    return True


def analysis_claim(*, job_id) -> AnalysisJob | None:
    """Mark the job running, unless it already succeeded (a duplicate delivery): then return None.

    A job found "running" is taken over: SQS redelivers a message only once the worker holding it stopped
    extending its visibility (stocktool/visibility.py) for a whole timeout, so the earlier run is dead by then.
    """
    with transaction.atomic():
        job = AnalysisJob.objects.select_for_update().get(pk=job_id)
        if job.status == AnalysisJob.Status.SUCCEEDED:
            return None
        job.status, job.started_at, job.finished_at = AnalysisJob.Status.RUNNING, timezone.now(), None
        job.attempts += 1
        job.error = ""
        job.save(update_fields=["status", "started_at", "finished_at", "attempts", "error"])
    return job


def analysis_compute(*, job: AnalysisJob) -> dict:
    """Fetch prices (through the stock-data cache) and run the maths."""
    wanted = list(job.symbols) + ([BENCHMARK] if job.analysis_type == "risk_assessment" and BENCHMARK not in job.symbols else [])
    # The histories are independent cache reads (or provider calls): fetch them side by side.
    series = list(_price_pool().map(lambda symbol: market_data.history_get(symbol=symbol, period=job.period), wanted))
    prices = {symbol: {bar["date"]: bar["close"] for bar in bars} for symbol, bars in zip(wanted, series)}
    bars = series[0]
    source = bars[0]["source"] if bars else None
    result = risk.analyse(analysis_type=job.analysis_type, symbols=job.symbols, weights=job.weights,
                          prices=prices, benchmark=BENCHMARK, rf=settings.ANALYSIS_RISK_FREE_RATE)
    return result | {"period": job.period, "source": source, "demo": bool(bars and bars[0].get("demo"))}


@lru_cache(maxsize=1)
def _price_pool() -> ThreadPoolExecutor:
    # Long-lived threads reading the price histories in parallel (the boto3 clients are shared).
    return ThreadPoolExecutor(max_workers=8, thread_name_prefix="prices")


os.register_at_fork(after_in_child=_price_pool.cache_clear)  # threads do not survive a fork


def analysis_run(*, job_id) -> AnalysisJob | None:
    """Run the job once; idempotent: a job that already succeeded is left alone."""
    job = analysis_claim(job_id=job_id)
    if job is None:
        # A redelivery: the run that saved the result may have died before it published "Analysis Ready".
        resent = analysis_finished_resend(job_id)
        logger.info("analysis %s already succeeded; duplicate delivery ignored%s", job_id,
                    f" ({resent} unsent event(s) published)" if resent else "")
        return None
    try:
        result = analysis_compute(job=job)
    except (MarketDataError, risk.AnalysisInputError) as exc:
        if isinstance(exc, TRANSIENT_ERRORS):
            raise
        return analysis_fail(job_id=job.id, error=str(exc))
    with transaction.atomic():
        job.result, job.status, job.finished_at = result, AnalysisJob.Status.SUCCEEDED, timezone.now()
        job.save(update_fields=["result", "status", "finished_at"])
        analysis_finished_announce(job)
    return job


def analysis_fail(*, job_id, error: str) -> AnalysisJob:
    with transaction.atomic():
        job = AnalysisJob.objects.select_for_update().get(pk=job_id)
        job.status, job.error, job.finished_at = AnalysisJob.Status.FAILED, error[:2000], timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
        analysis_finished_announce(job)
    return job
