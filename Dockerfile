# coupon-emulator as a service: docker build -t coupon-emulator . && docker run -p 8025:8025 coupon-emulator
# tests/test_dockerfile.py runs the same steps on a machine without Docker: wheel, fresh venv, serve.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md constraints.txt ./
COPY emulator ./emulator
COPY contracts ./contracts
# The scenario library and the examples go into the wheel (setup.py copies them in).
COPY scenarios ./scenarios
COPY examples ./examples
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist . && cp constraints.txt /dist/

# The core install only: no test tools (the contract suite's fuzzing and Locust are extras).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    COUPON_EMULATOR_URL_FILE=/tmp/coupon-emulator.url
COPY --from=build /dist/ /tmp/dist/
RUN python -m venv /opt/venv \
    && pip install --no-cache-dir -c /tmp/dist/constraints.txt /tmp/dist/*.whl \
    && rm -rf /tmp/dist \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin emulator \
    && mkdir /data && chown emulator:emulator /data
USER emulator
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8025
# serve writes the URL it answers on to $COUPON_EMULATOR_URL_FILE, so the check follows --port.
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=5 \
    CMD ["python", "-c", "import os, sys, urllib.request; url = open(os.environ['COUPON_EMULATOR_URL_FILE']).read().strip(); sys.exit(urllib.request.urlopen(url + '/healthz', timeout=2).status != 200)"]
ENTRYPOINT ["coupon-emulator"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8025", "--db", "/data/coupon-emulator.db"]
