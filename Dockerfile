# syntax=docker/dockerfile:1@sha256:ecfaec9ed6d810b56388c508f4121597bfbba70d41a6dfeee4d8cad5f295fc32
# The bot as one Native AOT binary on Microsoft's chiseled runtime-deps base: no shell, no package manager,
# runs as uid 65532 with a read-only root filesystem (the chart mounts /tmp).
#
#   docker build \
#     --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
#     --build-arg VERSION=0.1.0 \
#     -t bot:local .
#
# Both bases are pinned by digest (the tag is there for people): a rebuild of a tag changes nothing here until
# the digest is bumped on purpose. The SDK must be the one global.json asks for (10.0.401), and its runtime
# (10.0.12) is the ILCompiler version in src/Bot/packages.lock.json: a different SDK fails the locked restore.
# Pass SDK_IMAGE / RUNTIME_IMAGE (again by digest) to build with others.
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0.401@sha256:e70cdb7f80b0348f5cb85f19a8f670fca061f033d57eed12fa003d58b0e06317
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled@sha256:18d4848091a40d13dbfdd6a8340c1657dc3e2f2d7fa2f042e9d162e68669dbc9

FROM ${SDK_IMAGE} AS build
# Native AOT links with clang and needs zlib's headers.
RUN apt-get update \
    && apt-get install -y --no-install-recommends clang zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_NOLOGO=1 \
    DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
WORKDIR /src

# Restore from the project files alone, so that the package layer is reused until they change.
# nuget.config: nuget.org only; packages.lock.json: exactly those packages, with their content hashes.
COPY global.json nuget.config Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/Bot/Bot.csproj src/Bot/packages.lock.json src/Bot/
RUN dotnet restore src/Bot/Bot.csproj -r linux-x64 --locked-mode

COPY src/ src/
# The binary and the appsettings*.json beside it (the bot reads them from its own directory). Debug
# symbols stay out of the image.
RUN dotnet publish src/Bot/Bot.csproj -c Release -r linux-x64 --no-restore -o /out \
    && rm -f /out/*.dbg /out/*.pdb \
    && test -x /out/Bot

FROM ${RUNTIME_IMAGE} AS final
ARG REVISION=unknown
ARG CREATED=unknown
ARG VERSION=0.0.0-dev
ARG SOURCE=https://gitlab.example.com/community/bot
LABEL org.opencontainers.image.title="bot" \
      org.opencontainers.image.description="Telegram community gatekeeper and announcements bot (Native AOT)" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.base.name="mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled" \
      org.opencontainers.image.base.digest="sha256:18d4848091a40d13dbfdd6a8340c1657dc3e2f2d7fa2f042e9d162e68669dbc9"

# The base sets ASPNETCORE_HTTP_PORTS=8080; the bot binds its two ports itself (Hosting__PublicPort,
# Hosting__InternalPort), so the default is cleared rather than overridden with a warning at start.
ENV ASPNETCORE_HTTP_PORTS=""

WORKDIR /app
COPY --from=build /out/Bot /out/appsettings*.json /app/

# Numeric, so that Kubernetes' runAsNonRoot can verify it without an /etc/passwd entry.
USER 65532:65532
EXPOSE 8080 9090
# No HEALTHCHECK: there is no shell or client in the image; Kubernetes probes /healthz and /readyz on 9090.
ENTRYPOINT ["/app/Bot"]
CMD ["serve"]
