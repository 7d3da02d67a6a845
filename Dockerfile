# coupon-emulator as a service: docker build -t coupon-emulator . && docker run -p 8025:8025 coupon-emulator
# tests/test_dockerfile.py runs the same steps on a machine without Docker: wheel, fresh venv, serve.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY emulator ./emulator
COPY contracts ./contracts
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    COUPON_EMULATOR_SCENARIOS=/app/scenarios
COPY --from=build /dist/ /tmp/dist/
RUN python -m venv /opt/venv \
    && pip install --no-cache-dir /tmp/dist/*.whl \
    && rm -rf /tmp/dist \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin emulator \
    && mkdir /data && chown emulator:emulator /data
COPY scenarios /app/scenarios
USER emulator
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8025
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=5 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8025/healthz', timeout=2).status != 200)"]
ENTRYPOINT ["coupon-emulator"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8025", "--db", "/data/coupon-emulator.db"]
