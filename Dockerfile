# syntax=docker/dockerfile:1
# ReturnDesk's image: the package, installed in a virtualenv on Python's official slim image, run
# by a user without privileges. The entry point is `returndesk`; the command picks what to run
# (`run --role web|sender|sweeper|all`, `db upgrade`, ...). docs/operations.md#containers.
#
# The base is pinned by version and by the digest of its multi-platform index, as the official
# images publish it (docker-library/repo-info, python:3.11.15-slim-bookworm); Python 3.11 is the
# version CI tests. To move it, change both and rebuild.
ARG PYTHON_IMAGE=python:3.11.15-slim-bookworm@sha256:d29f48a31a8b408ed19272ca1e7b10ebae13b240a27e862d3d4217c528e2e0c3

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/returndesk
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY templates ./templates
# A wheel, not an editable install: the image needs no source tree, and the templates travel
# inside the package (pyproject.toml's force-include).
RUN /opt/returndesk/bin/pip install --no-cache-dir /src

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 returndesk \
    && useradd --system --uid 10001 --gid returndesk --home-dir /var/lib/returndesk \
       --create-home --shell /usr/sbin/nologin returndesk
COPY --from=build /opt/returndesk /opt/returndesk
ENV PATH=/opt/returndesk/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    RETURNDESK_TELEGRAM_MEDIA_DIR=/var/lib/returndesk/media
WORKDIR /var/lib/returndesk
USER 10001:10001
# The webhook's port (RETURNDESK_TELEGRAM_WEBHOOK_PORT; bind 0.0.0.0 with _HOST in a container).
EXPOSE 8080
ENTRYPOINT ["returndesk"]
CMD ["run"]
