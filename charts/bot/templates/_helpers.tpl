{{/*
Names. fullname is the release name when it already contains the chart name (release "bot" gives "bot").
*/}}
{{- define "bot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "bot.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "bot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels: the recommended app.kubernetes.io set. selectorLabels never change across upgrades.
*/}}
{{- define "bot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "bot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "bot.labels" -}}
helm.sh/chart: {{ include "bot.chart" . }}
{{ include "bot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: bot
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels of one component: include "bot.componentLabels" (dict "context" $ "component" "server") */}}
{{- define "bot.componentLabels" -}}
{{ include "bot.labels" .context }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "bot.componentSelectorLabels" -}}
{{ include "bot.selectorLabels" .context }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* metadata.annotations content shared by every object (commonAnnotations), possibly empty. */}}
{{- define "bot.commonAnnotations" -}}
{{- with .Values.commonAnnotations }}
{{- toYaml . }}
{{- end }}
{{- end }}

{{- define "bot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "bot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
An image reference from {registry, repository, tag, digest}: by digest when one is given, with the tag kept
in front of it for people (repository:tag@digest; the runtime pulls the digest and ignores the tag).
include "bot.imageRef" (dict "image" .Values.image "context" $)
*/}}
{{- define "bot.imageRef" -}}
{{- $image := .image }}
{{- $name := $image.repository }}
{{- if $image.registry }}
{{- $name = printf "%s/%s" $image.registry $image.repository }}
{{- end }}
{{- if and $image.digest $image.tag }}
{{- printf "%s:%s@%s" $name ($image.tag | toString) $image.digest }}
{{- else if $image.digest }}
{{- printf "%s@%s" $name $image.digest }}
{{- else if $image.tag }}
{{- printf "%s:%s" $name ($image.tag | toString) }}
{{- else }}
{{- fail (printf "image %s: set a digest (or a tag outside Staging and Production)" $name) }}
{{- end }}
{{- end }}

{{/*
The bot's own image. Outside Staging and Production an image with neither digest nor tag takes the chart's
appVersion as its tag (the image version the pipeline packaged the chart with); Staging and Production take
only a digest (bot.validateValues says so first).
*/}}
{{- define "bot.validateImage" -}}
{{- if and (has .Values.environment (list "Staging" "Production")) (not .Values.image.digest) }}
{{- fail (printf "image.digest is required in %s: set it to the sha256 digest of the image to run (the pipeline passes the one it pushed); only an image pinned by digest is promoted" .Values.environment) }}
{{- end }}
{{- if and (has .Values.environment (list "Staging" "Production")) .Values.image.tag }}
{{- fail (printf "image.tag is set (%s), but %s runs an image by its digest alone: leave image.tag empty and set image.digest" (toString .Values.image.tag) .Values.environment) }}
{{- end }}
{{- end }}

{{- define "bot.image" -}}
{{- include "bot.validateImage" . }}
{{- $image := .Values.image }}
{{- if and (not $image.digest) (not $image.tag) (not (has .Values.environment (list "Staging" "Production"))) }}
{{- $image = merge (dict "tag" .Chart.AppVersion) (omit $image "tag") }}
{{- end }}
{{- include "bot.imageRef" (dict "image" $image "context" .) }}
{{- end }}

{{- define "bot.imagePullSecrets" -}}
{{- range .Values.image.pullSecrets }}
- name: {{ . }}
{{- end }}
{{- end }}

{{- define "bot.secretName" -}}
{{- default (include "bot.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{- define "bot.configMapName" -}}
{{- printf "%s-config" (include "bot.fullname" .) }}
{{- end }}

{{- define "bot.leaseName" -}}
{{- default (printf "%s-leader" (include "bot.fullname" .)) .Values.leaderElection.leaseName }}
{{- end }}

{{/* "true" when the bot takes a Kubernetes Lease (Auto does in a cluster), empty with the PostgreSQL lock. */}}
{{- define "bot.usesLease" -}}
{{- if ne .Values.leaderElection.mode "Postgres" }}true{{ end }}
{{- end }}

{{- define "bot.webhookUrl" -}}
{{- if .Values.telegram.webhookUrl }}
{{- .Values.telegram.webhookUrl }}
{{- else if .Values.ingress.enabled }}
{{- printf "https://%s/telegram/webhook" .Values.ingress.hostname }}
{{- end }}
{{- end }}

{{/* The connection string without the password: Npgsql adds Database__Password from the secrets directory. */}}
{{- define "bot.databaseConnectionString" -}}
{{- include "bot.databaseConnectionStringTo" (dict "root" . "host" .Values.database.host) }}
{{- end }}

{{/*
The lag-tolerant reads' connection string (Database__ReadConnectionString): the same as the primary's with
database.readHost (CloudNativePG: <cluster>-ro, the standbys' service; its certificate names it too).
*/}}
{{- define "bot.databaseReadConnectionString" -}}
{{- include "bot.databaseConnectionStringTo" (dict "root" . "host" .Values.database.readHost) }}
{{- end }}

{{- define "bot.databaseConnectionStringTo" -}}
{{- $db := .root.Values.database }}
{{- $parts := list (printf "Host=%s" .host) (printf "Port=%v" $db.port) (printf "Database=%s" $db.name) (printf "Username=%s" $db.username) (printf "SSL Mode=%s" $db.sslMode) }}
{{- if $db.caSecret.name }}
{{- $parts = append $parts (printf "Root Certificate=%s" (include "bot.databaseCaFile" .root)) }}
{{- end }}
{{- if not (kindIs "invalid" $db.maxPoolSize) }}
{{- $parts = append $parts (printf "Maximum Pool Size=%d" (int $db.maxPoolSize)) }}
{{- end }}
{{- with $db.extraParameters }}
{{- $parts = append $parts (trimSuffix ";" .) }}
{{- end }}
{{- join ";" $parts }}
{{- end }}

{{/*
The CA that signs the database server's certificate (CloudNativePG: <cluster>-ca, key ca.crt), mounted as a
directory (no subPath, so a renewed CA reaches running pods) at /etc/bot/db-ca in every pod that connects.
*/}}
{{- define "bot.databaseCaFile" -}}/etc/bot/db-ca/ca.crt{{- end }}

{{- define "bot.databaseCaVolume" -}}
{{- with .Values.database.caSecret }}
{{- if .name }}
- name: db-ca
  secret:
    secretName: {{ .name }}
    items:
      - key: {{ .key }}
        path: ca.crt
    defaultMode: 292  # 0444: a certificate, not a secret
{{- end }}
{{- end }}
{{- end }}

{{- define "bot.databaseCaMount" -}}
{{- if .Values.database.caSecret.name }}
- name: db-ca
  mountPath: /etc/bot/db-ca
  readOnly: true
{{- end }}
{{- end }}

{{- define "bot.preStopSleepSeconds" -}}
{{- if kindIs "invalid" .Values.shutdown.preStopSleepSeconds }}
{{- .Values.shutdown.drainDelaySeconds }}
{{- else }}
{{- .Values.shutdown.preStopSleepSeconds }}
{{- end }}
{{- end }}

{{/* preStop sleep, then the bot's own drain, then its shutdown timeout, then a margin for flushing telemetry. */}}
{{- define "bot.minimumGracePeriodSeconds" -}}
{{- add (include "bot.preStopSleepSeconds" . | int) (.Values.shutdown.drainDelaySeconds | int) (.Values.shutdown.timeoutSeconds | int) 10 }}
{{- end }}

{{- define "bot.terminationGracePeriodSeconds" -}}
{{- $minimum := include "bot.minimumGracePeriodSeconds" . | int }}
{{- if kindIs "invalid" .Values.shutdown.terminationGracePeriodSeconds }}
{{- $minimum }}
{{- else if lt (.Values.shutdown.terminationGracePeriodSeconds | int) $minimum }}
{{- fail (printf "shutdown.terminationGracePeriodSeconds (%v) must be at least preStop + drain + timeout + 10 = %d" .Values.shutdown.terminationGracePeriodSeconds $minimum) }}
{{- else }}
{{- .Values.shutdown.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/*
Rules that span several values (the schema checks each value on its own). Included by every template
that renders a workload, so that `helm template` and `helm lint` fail early with a sentence.
*/}}
{{- define "bot.validateValues" -}}
{{- $s := .Values.secrets }}
{{- if not $s.existingSecret }}
{{- if not $s.botToken }}
{{- fail "secrets: set secrets.existingSecret, or secrets.botToken for a chart-managed Secret" }}
{{- end }}
{{- if and (eq .Values.telegram.mode "Webhook") (not $s.webhookSecret) }}
{{- fail "secrets: webhook mode needs secrets.webhookSecret (or secrets.existingSecret)" }}
{{- end }}
{{- if not $s.adminToken }}
{{- fail "secrets: set secrets.adminToken (or secrets.existingSecret)" }}
{{- end }}
{{- if and $s.adminPreviousReadToken (not $s.adminReadToken) }}
{{- fail "secrets: secrets.adminPreviousReadToken needs secrets.adminReadToken (the bot refuses a previous token without a current one)" }}
{{- end }}
{{- $adminTokens := compact (list $s.adminToken $s.adminPreviousToken $s.adminReadToken $s.adminPreviousReadToken) }}
{{- if ne (len $adminTokens) (len (uniq $adminTokens)) }}
{{- fail "secrets: adminToken, adminPreviousToken, adminReadToken and adminPreviousReadToken must all differ (the bot refuses one value under two names)" }}
{{- end }}
{{- if and (not .Values.database.passwordSecret.name) (not $s.databasePassword) (not $s.databaseConnectionString) }}
{{- fail "secrets: set secrets.databasePassword, secrets.databaseConnectionString or database.passwordSecret.name (or secrets.existingSecret)" }}
{{- end }}
{{- end }}
{{- if and (not .Values.database.host) (not $s.databaseConnectionString) (not $s.existingSecret) }}
{{- fail "database: set database.host (or a complete connection string in the Secret)" }}
{{- end }}
{{- with .Values.discord }}
{{- if .enabled }}
{{- range $key := list "clientId" "guildId" "roleId" }}
{{- if not (regexMatch "^[0-9]{1,20}$" (toString (index $.Values.discord $key))) }}
{{- fail (printf "discord.%s must be a Discord id (digits; quote it so YAML keeps it a string)" $key) }}
{{- end }}
{{- end }}
{{- if and (not .redirectUri) (not $.Values.ingress.enabled) }}
{{- fail "discord.enabled needs discord.redirectUri or ingress.enabled (the callback is served through the ingress)" }}
{{- end }}
{{- if and (not $s.existingSecret) (or (not $s.discordClientSecret) (not $s.discordBotToken)) }}
{{- fail "discord.enabled needs secrets.discordClientSecret and secrets.discordBotToken (or those keys in secrets.existingSecret)" }}
{{- end }}
{{- if and $.Values.networkPolicy.enabled (not $.Values.networkPolicy.discord.cidrs) }}
{{- fail "discord.enabled with networkPolicy.enabled needs networkPolicy.discord.cidrs (the addresses of discord.com)" }}
{{- end }}
{{- if has "0.0.0.0/0" $.Values.networkPolicy.discord.cidrs }}
{{- fail "networkPolicy.discord.cidrs: 0.0.0.0/0 would open 443 to every address; list Discord's (Cloudflare's) ranges or an egress proxy" }}
{{- end }}
{{- end }}
{{- end }}
{{- if and .Values.database.readHost (not .Values.database.host) }}
{{- fail "database.readHost needs database.host (the read connection string is built from the same parts)" }}
{{- end }}
{{- if and $s.databaseConnectionString .Values.database.host }}
{{- fail "database: secrets.databaseConnectionString and database.host exclude each other (the environment variable built from database.* would win)" }}
{{- end }}
{{- if and (eq .Values.telegram.mode "Webhook") (not (include "bot.webhookUrl" .)) }}
{{- fail "telegram: webhook mode needs telegram.webhookUrl or ingress.enabled with ingress.hostname" }}
{{- end }}
{{- if and (or .Values.backup.enabled .Values.restoreCheck.enabled) (not .Values.database.host) }}
{{- fail "backup/restoreCheck need database.host (they connect with libpq variables, not the bot's connection string)" }}
{{- end }}
{{- $b := .Values.backup }}
{{- $rc := .Values.restoreCheck }}
{{- $fromBucket := and $rc.enabled (eq $rc.source "offsite") }}
{{- if and $rc.enabled (not $fromBucket) (not $b.enabled) (not $b.persistence.existingClaim) }}
{{- fail "restoreCheck reads the backup volume: enable backup or set backup.persistence.existingClaim (or restoreCheck.source offsite)" }}
{{- end }}
{{- if and $b.enabled (has .Values.environment (list "Staging" "Production")) (not $b.encryption.publicKeySecret.name) }}
{{- fail (printf "backup: in %s every dump is encrypted, so set backup.encryption.publicKeySecret.name to the Secret holding the backup key's public half (docs/runbook.md, section 8)" .Values.environment) }}
{{- end }}
{{- if and $b.enabled $b.offsite.enabled (not $b.encryption.publicKeySecret.name) }}
{{- fail "backup.offsite sends dumps off the cluster only encrypted: set backup.encryption.publicKeySecret.name" }}
{{- end }}
{{- $offsiteUsed := or (and $b.enabled $b.offsite.enabled) $fromBucket }}
{{- if $offsiteUsed }}
{{- if not $b.offsite.bucketUrl }}
{{- fail "backup.offsite.bucketUrl is empty: name the bucket the backups are copied to and restored from" }}
{{- end }}
{{- if not (or $b.offsite.credentialsSecret.name (and $fromBucket $rc.offsite.credentialsSecret.name)) }}
{{- fail "backup.offsite.credentialsSecret.name is empty: name the Secret with the bucket's access key" }}
{{- end }}
{{- end }}
{{- if and $fromBucket (not $b.offsite.enabled) (not $rc.offsite.credentialsSecret.name) }}
{{- fail "restoreCheck.source offsite without backup.offsite: set restoreCheck.offsite.credentialsSecret.name for the bucket" }}
{{- end }}
{{- if and $rc.enabled $b.encryption.publicKeySecret.name (not $rc.decryption.privateKeySecret.name) }}
{{- fail "restoreCheck: the backups are encrypted (backup.encryption), so set restoreCheck.decryption.privateKeySecret.name to the Secret with the private key" }}
{{- end }}
{{- if and $rc.enabled (eq .Values.environment "Production") (not $rc.target.allowDatabaseHost) (or (not $rc.target.host) (eq $rc.target.host .Values.database.host)) }}
{{- fail "restoreCheck.target.host: in Production the restore check restores into a server of its own, not the bot's, so set target.host (Terraform's restore_check_server makes <cluster>-restore-rw) or target.allowDatabaseHost: true" }}
{{- end }}
{{- include "bot.validateImage" . }}
{{- if and (eq .Values.environment "Production") (ne .Values.telegram.mode "Webhook") }}
{{- fail (printf "telegram.mode is %s, but Production takes Telegram's updates by webhook only: set telegram.mode: Webhook (Polling is for Development and Staging)" .Values.telegram.mode) }}
{{- end }}
{{- $np := .Values.networkPolicy }}
{{- if and (eq .Values.environment "Production") (not $np.enabled) }}
{{- fail "networkPolicy.enabled is false, but Production runs behind its network policies: set networkPolicy.enabled: true with networkPolicy.database (and networkPolicy.kubernetesApi for the Lease), as values-prod.yaml does" }}
{{- end }}
{{- if $np.enabled }}
{{- if not (or $np.database.cidrs $np.database.podSelector $np.database.namespaceSelector) }}
{{- fail "networkPolicy.database: name the database with podSelector, namespaceSelector or cidrs (the chart does not open the database port to every address)" }}
{{- end }}
{{- if and $offsiteUsed (not $np.objectStore.cidrs) }}
{{- fail "networkPolicy.objectStore.cidrs is empty, so the backup pods could not reach backup.offsite's bucket: list the object store's addresses (and networkPolicy.objectStore.port)" }}
{{- end }}
{{- if and (include "bot.usesLease" .) (not $np.kubernetesApi.cidrs) }}
{{- fail "networkPolicy.kubernetesApi.cidrs is empty, so the bot could not reach the API server for its leader Lease: list the API server's endpoint addresses (kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes) or set leaderElection.mode to Postgres" }}
{{- end }}
{{- end }}
{{- include "bot.validateConnectionBudget" . }}
{{- $_ := include "bot.terminationGracePeriodSeconds" . }}
{{- end }}

{{/*
The connection budget: at the replica ceiling (the HPA's maxReplicas, else replicaCount) plus the pods a
rollout surges, each pod's pool (Npgsql's default is 100) and the two sessions each replica opens outside it
(the LISTEN/NOTIFY listener and the advisory leader lock, counted in Lease mode as well) must fit in the
server's max_connections less database.connectionReserve. Not checked when the Secret carries the
connection string (the chart cannot see its pool).
*/}}
{{- define "bot.validateConnectionBudget" -}}
{{- $db := .Values.database }}
{{- if $db.host }}
{{- if regexMatch "(?i)(^|;)\\s*max(imum)?\\s*pool\\s*size\\s*=" (default "" $db.extraParameters) }}
{{- fail "database.extraParameters names the pool size: set database.maxPoolSize instead, which the connection budget is checked against" }}
{{- end }}
{{- $pool := 100 }}
{{- if not (kindIs "invalid" $db.maxPoolSize) }}
{{- $pool = int $db.maxPoolSize }}
{{- end }}
{{- $replicas := int .Values.replicaCount }}
{{- if .Values.autoscaling.enabled }}
{{- $replicas = int .Values.autoscaling.maxReplicas }}
{{- end }}
{{- $surge := 0 }}
{{- if ne .Values.updateStrategy.type "Recreate" }}
{{- $maxSurge := "25%" }}
{{- with .Values.updateStrategy.rollingUpdate }}
{{- if not (kindIs "invalid" .maxSurge) }}
{{- $maxSurge = .maxSurge }}
{{- end }}
{{- end }}
{{- $maxSurge = toString $maxSurge }}
{{- if hasSuffix "%" $maxSurge }}
{{- $surge = div (add (mul $replicas (trimSuffix "%" $maxSurge | int)) 99) 100 }}
{{- else }}
{{- $surge = int $maxSurge }}
{{- end }}
{{- end }}
{{- $perPod := add $pool 2 }}
{{- $needed := mul (add $replicas $surge) $perPod }}
{{- $allowed := sub (int $db.maxConnections) (int $db.connectionReserve) }}
{{- if gt (int $needed) (int $allowed) }}
{{- fail (printf "database: %d replicas at most and %d surge pod(s), each with Maximum Pool Size %d and 2 sessions of its own, can open %d connections, more than database.maxConnections %d less connectionReserve %d (%d), so lower database.maxPoolSize or the replica ceiling, or raise max_connections on the server and database.maxConnections with it" $replicas $surge $pool $needed (int $db.maxConnections) (int $db.connectionReserve) $allowed) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Environment shared by the bot and its hook Jobs. Settings that must be right before the ConfigMap exists
(the migration hook runs before it) come as variables; the reloadable rest lives in appsettings.json.
*/}}
{{- define "bot.env" -}}
- name: ASPNETCORE_ENVIRONMENT
  value: {{ .Values.environment | quote }}
- name: DOTNET_ENVIRONMENT
  value: {{ .Values.environment | quote }}
- name: Secrets__Directory
  value: /etc/bot/secrets
- name: Config__Directory
  value: /etc/bot/config
{{- if .Values.database.host }}
- name: Database__ConnectionString
  value: {{ include "bot.databaseConnectionString" . | quote }}
{{- end }}
{{- if .Values.database.readHost }}
- name: Database__ReadConnectionString
  value: {{ include "bot.databaseReadConnectionString" . | quote }}
{{- end }}
- name: Telegram__Mode
  value: {{ .Values.telegram.mode | quote }}
{{- if eq .Values.telegram.mode "Webhook" }}
- name: Telegram__WebhookUrl
  value: {{ include "bot.webhookUrl" . | quote }}
{{- end }}
{{- with .Values.telegram.apiBaseUrl }}
- name: Telegram__ApiBaseUrl
  value: {{ . | quote }}
{{- end }}
{{- if .Values.telegram.useTestEnvironment }}
- name: Telegram__UseTestEnvironment
  value: "true"
{{- end }}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: OTEL_SERVICE_NAME
  value: {{ default .Chart.Name .Values.telemetry.serviceName | quote }}
{{- /* Error tracking is on when the secrets hold Sentry__Dsn; its events name the build and the environment. */}}
- name: Sentry__Release
  value: {{ printf "bot@%s" (.Values.image.digest | default .Values.image.tag | default .Chart.AppVersion) | quote }}
- name: Sentry__Environment
  value: {{ lower .Values.environment | quote }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ include "bot.otelResourceAttributes" . | quote }}
{{- with .Values.telemetry.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ . | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ $.Values.telemetry.otlpProtocol | quote }}
{{- end }}
{{- end }}

{{- define "bot.otelResourceAttributes" -}}
{{- $attributes := list
  (printf "deployment.environment.name=%s" (lower .Values.environment))
  "k8s.namespace.name=$(POD_NAMESPACE)"
  "k8s.pod.name=$(POD_NAME)"
  "service.instance.id=$(POD_NAME)"
  (printf "service.version=%s" (default .Chart.AppVersion .Values.image.tag)) }}
{{- with .Values.telemetry.resourceAttributes }}
{{- $attributes = append $attributes . }}
{{- end }}
{{- join "," $attributes }}
{{- end }}

{{/*
The secrets directory: the app Secret (one file per key), plus the database password from another Secret
when database.passwordSecret is set. Group-readable through fsGroup, nothing else.
The app Secret is projected without `items`, so every key it holds becomes a file, the optional ones
(Admin__PreviousToken, Admin__ReadToken, Admin__PreviousReadToken, Sentry__Dsn) included whenever they are present; and
the volume is mounted as a directory, never with subPath, so that the kubelet carries a Secret update into
the running pod's files (the bot re-reads the admin tokens; a rotation needs no restart).
*/}}
{{- define "bot.secretsVolume" -}}
- name: secrets
  projected:
    defaultMode: 288  # 0440
    sources:
      - secret:
          name: {{ include "bot.secretName" . }}
{{- with .Values.database.passwordSecret }}
{{- if .name }}
      - secret:
          name: {{ .name }}
          items:
            - key: {{ .key }}
              path: Database__Password
{{- end }}
{{- end }}
{{- end }}

{{- define "bot.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext }}
{{- end }}

{{- define "bot.containerSecurityContext" -}}
{{- toYaml .Values.containerSecurityContext }}
{{- end }}

{{/*
Security context for the postgres-client CronJobs: the same restrictions under the image's postgres uid.
*/}}
{{- define "bot.pgClientPodSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.backup.runAsUser }}
runAsGroup: {{ .Values.backup.runAsGroup }}
fsGroup: {{ .Values.backup.runAsGroup }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "bot.pgClientContainerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.backup.runAsUser }}
runAsGroup: {{ .Values.backup.runAsGroup }}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "bot.backupClaimName" -}}
{{- default (printf "%s-backups" (include "bot.fullname" .)) .Values.backup.persistence.existingClaim }}
{{- end }}

{{- define "bot.backupScriptsName" -}}
{{- printf "%s-backup-scripts" (include "bot.fullname" .) }}
{{- end }}

{{/* A probe on the internal port: include "bot.probe" (dict "probe" .Values.livenessProbe "path" "/healthz") */}}
{{- define "bot.probe" -}}
httpGet:
  path: {{ .path }}
  port: internal
initialDelaySeconds: {{ .probe.initialDelaySeconds }}
periodSeconds: {{ .probe.periodSeconds }}
timeoutSeconds: {{ .probe.timeoutSeconds }}
failureThreshold: {{ .probe.failureThreshold }}
successThreshold: {{ .probe.successThreshold }}
{{- end }}

{{/* Ids as strings: Helm reads YAML numbers as floats, which print large chat ids in exponent form. */}}
{{- define "bot.idList" -}}
{{- $ids := list }}
{{- range . }}
{{- if kindIs "string" . }}
{{- $ids = append $ids . }}
{{- else }}
{{- $ids = append $ids (int64 . | toString) }}
{{- end }}
{{- end }}
{{- join "," $ids }}
{{- end }}
{{- define "bot.id" -}}
{{- if kindIs "string" . }}{{ . }}{{ else }}{{ int64 . }}{{ end }}
{{- end }}

{{/* libpq's sslmode for Npgsql's SSL Mode value. */}}
{{- define "bot.libpqSslMode" -}}
{{- $modes := dict "Disable" "disable" "Allow" "allow" "Prefer" "prefer" "Require" "require" "VerifyCA" "verify-ca" "VerifyFull" "verify-full" }}
{{- get $modes . | default "require" }}
{{- end }}

{{/*
Only the database password, as /etc/bot/db/password, for the postgres-client CronJobs: they have no
business with the bot token. include "bot.passwordVolume" (dict "context" $ "secret" .Values.restoreCheck.target.passwordSecret)
*/}}
{{- define "bot.passwordVolume" -}}
{{- $ctx := .context }}
{{- $ref := .secret | default dict }}
{{- if not $ref.name }}
{{- $ref = $ctx.Values.database.passwordSecret }}
{{- end }}
- name: db-password
  secret:
    {{- if $ref.name }}
    secretName: {{ $ref.name }}
    items:
      - key: {{ $ref.key }}
        path: password
    {{- else }}
    secretName: {{ include "bot.secretName" $ctx }}
    items:
      - key: Database__Password
        path: password
    {{- end }}
    defaultMode: 288  # 0440
{{- end }}

{{/* NetworkPolicy egress rules shared by the bot and its Jobs. */}}
{{- define "bot.egressDns" -}}
- to:
    - namespaceSelector:
        {{- toYaml .dns.namespaceSelector | nindent 8 }}
      podSelector:
        {{- toYaml .dns.podSelector | nindent 8 }}
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}
{{- define "bot.egressDatabase" -}}
{{- $db := .np.database }}
{{- if or $db.cidrs $db.podSelector $db.namespaceSelector }}
- to:
    {{- if or $db.podSelector $db.namespaceSelector }}
    {{- if $db.namespaceSelector }}
    - namespaceSelector:
        {{- toYaml $db.namespaceSelector | nindent 8 }}
      podSelector:
        {{- toYaml ($db.podSelector | default dict) | nindent 8 }}
    {{- else }}
    - podSelector:
        {{- toYaml $db.podSelector | nindent 8 }}
    {{- end }}
    {{- end }}
    {{- range $db.cidrs }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  ports:
    - port: {{ .port }}
      protocol: TCP
{{- end }}
{{- end }}
{{/* The Bot API: Telegram's ranges on 443. No rule at all when the list is empty (an empty "to" allows any). */}}
{{- define "bot.egressTelegram" -}}
{{- with .telegram.cidrs }}
- to:
    {{- range . }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  ports:
    - port: 443
      protocol: TCP
{{- end }}
{{- end }}

{{/*
The bucket of backup.offsite, for files/offsite.sh (push in the backup Job, pull in the restore check).
*/}}
{{- define "bot.offsitePrefix" -}}
{{- default (printf "%s/%s/" .Release.Namespace (include "bot.fullname" .)) .Values.backup.offsite.prefix }}
{{- end }}

{{- define "bot.offsiteEnv" -}}
- name: BACKUP_DIR
  value: /backups
- name: BACKUP_PREFIX
  value: {{ include "bot.fullname" . | quote }}
- name: OFFSITE_BUCKET_URL
  value: {{ .Values.backup.offsite.bucketUrl | quote }}
- name: OFFSITE_PREFIX
  value: {{ include "bot.offsitePrefix" . | quote }}
- name: OFFSITE_REGION
  value: {{ .Values.backup.offsite.region | quote }}
- name: OFFSITE_CREDENTIALS_DIR
  value: /etc/bot/offsite
{{- if .Values.backup.offsite.caSecret.name }}
- name: OFFSITE_CA_FILE
  value: /etc/bot/offsite-ca/ca.crt
{{- end }}
- name: HOME
  value: /tmp
{{- end }}

{{- define "bot.offsiteMounts" -}}
- name: offsite-credentials
  mountPath: /etc/bot/offsite
  readOnly: true
{{- if .Values.backup.offsite.caSecret.name }}
- name: offsite-ca
  mountPath: /etc/bot/offsite-ca
  readOnly: true
{{- end }}
{{- end }}

{{/* include "bot.offsiteVolumes" (dict "context" $ "credentials" <credentialsSecret>) */}}
{{- define "bot.offsiteVolumes" -}}
{{- $ctx := .context }}
- name: offsite-credentials
  secret:
    secretName: {{ .credentials.name }}
    items:
      - key: {{ .credentials.accessKeyIdKey }}
        path: access-key-id
      - key: {{ .credentials.secretAccessKeyKey }}
        path: secret-access-key
    defaultMode: 288  # 0440
{{- with $ctx.Values.backup.offsite.caSecret }}
{{- if .name }}
- name: offsite-ca
  secret:
    secretName: {{ .name }}
    items:
      - key: {{ .key }}
        path: ca.crt
    defaultMode: 292  # 0444
{{- end }}
{{- end }}
{{- end }}
