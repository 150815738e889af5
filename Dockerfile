# MobileNet Explainer: N Streamlit workers behind nginx (`python -m explainer serve`), CPU-only PyTorch,
# every file the app may fetch baked in at build time (python -m explainer fetch --all).
#
#   docker build -t mobilenet-explainer .
#   docker run --rm -p 8501:8501 mobilenet-explainer                         # one worker per visible core
#   docker run --rm -p 8501:8501 --cpus 4 -e EXPLAINER_WORKERS=4 mobilenet-explainer
#
# Then open http://localhost:8501. nginx (config generated from deploy/nginx.conf.template) listens on
# 8501, keeps each browser on one worker (route cookie, consistent hash), passes websockets, serves the
# frontend's /static/ files itself and allows uploads up to the app's limit; the command restarts a worker
# that dies and stops everything on SIGTERM (docker stop).
#
# torchvision publishes no MobileNetV1 weights: to show V1 trained, mount a folder with
# mobilenet_v1.pth or a released mobilenet_v1_<a>_<res>_imagenet.npz (read-only) and point at it:
#   docker run --rm -p 8501:8501 -v /path/to/weights:/weights:ro -e EXPLAINER_WEIGHTS_DIR=/weights mobilenet-explainer
#
# Readiness/liveness: GET /_stcore/health answers "ok" (through nginx). Several containers behind another
# load balancer still need sticky sessions: deploy/README.md (compose, systemd and Kubernetes files there).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    EXPLAINER_CACHE_DIR=/opt/explainer-files

WORKDIR /app

# Debian's nginx: the balancer in front of the workers (runs unprivileged, config in the run folder).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx \
 && rm -rf /var/lib/apt/lists/*

# CPU-only torch/torchvision from PyTorch's CPU index (no CUDA libraries, ~5x smaller),
# then the rest; torch is already satisfied, so requirements.txt does not pull a CUDA build.
COPY requirements.txt .
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch torchvision \
 && pip install -r requirements.txt

COPY .streamlit ./.streamlit
COPY deploy ./deploy
COPY explainer ./explainer
COPY pages ./pages
COPY app.py ./

# Every file of the catalogue (torchvision's weights, Google's .tflite models, the demo data set) into the
# cache at build time, checked against its pinned SHA-256; never download at run time.
RUN python -m explainer fetch --all --to "$EXPLAINER_CACHE_DIR" \
 && python -m explainer fetch --status
ENV EXPLAINER_OFFLINE=1

RUN useradd --create-home --uid 10001 explainer
USER explainer

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD python -c "import urllib.request, sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() == b'ok' else 1)"

CMD ["python", "-m", "explainer", "serve", "--host", "0.0.0.0", "--port", "8501", "--run-dir", "/tmp/explainer-serve"]
