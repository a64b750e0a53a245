{{/* Names: <release>-resemble unless the release name already says resemble; 63 chars is the DNS label limit. */}}
{{- define "resemble.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains "resemble" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-resemble" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* <fullname>-<component>, e.g. resemble-ml-service. */}}
{{- define "resemble.componentName" -}}
{{- printf "%s-%s" (include "resemble.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "resemble.selectorLabels" -}}
app.kubernetes.io/name: resemble
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "resemble.labels" -}}
{{ include "resemble.selectorLabels" . }}
app.kubernetes.io/part-of: resemble
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* An application image: <global.imageRegistry>/<repository>:<tag or global.imageTag or appVersion>, or a digest. */}}
{{- define "resemble.appImage" -}}
{{- $g := .root.Values.global -}}
{{- $repo := required "global.imageRegistry is required (e.g. registry.gitlab.com/acme/resemble)" $g.imageRegistry -}}
{{- if .image.digest -}}
{{- printf "%s/%s@%s" $repo .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s/%s:%s" $repo .image.repository (.image.tag | default $g.imageTag | default .root.Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* A third-party image given whole: repository (with registry) and tag or digest. */}}
{{- define "resemble.image" -}}
{{- if .digest -}}
{{- printf "%s@%s" .repository .digest -}}
{{- else -}}
{{- printf "%s:%s" .repository (required (printf "a tag or digest for %s" .repository) .tag) -}}
{{- end -}}
{{- end -}}

{{/*
The market-data image tag: data.tag when set (a pin or a back-out), else the tag the daily job last rolled to
(its ConfigMap, read from the cluster on install/upgrade), else `latest` (the newest published data; a
first install, and `helm template`, which has no cluster).
*/}}
{{- define "resemble.dataTag" -}}
{{- if .Values.data.tag -}}
{{- .Values.data.tag -}}
{{- else -}}
{{- $cm := lookup "v1" "ConfigMap" .Release.Namespace (include "resemble.componentName" (dict "root" . "component" "data-tag")) -}}
{{- $live := "" -}}
{{- if $cm -}}{{- $live = index ($cm.data | default dict) "tag" | default "" -}}{{- end -}}
{{- $live | default "latest" -}}
{{- end -}}
{{- end -}}

{{/* `latest` moves: pull it every time, or a node's cached copy would serve old data. */}}
{{- define "resemble.dataPullPolicy" -}}
{{- if eq (include "resemble.dataTag" .) "latest" -}}Always{{- else -}}{{ .Values.data.pullPolicy }}{{- end -}}
{{- end -}}

{{- define "resemble.dataImage" -}}
{{- printf "%s:%s" (required "data.repository is required (e.g. registry.gitlab.com/acme/resemble/data)" .Values.data.repository) (include "resemble.dataTag" .) -}}
{{- end -}}

{{/* The Secret every component reads its secrets from. */}}
{{- define "resemble.secretName" -}}
{{- required "secrets.name is required: the Secret with JWT_SECRET, ML_TOKEN, DATABASE_URL, REDIS_URL, …" .Values.secrets.name -}}
{{- end -}}

{{/* Pod-level security: a non-root user, its group owning the volumes, the runtime's seccomp profile. */}}
{{- define "resemble.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurity.runAsUser }}
runAsGroup: {{ .Values.podSecurity.runAsGroup }}
fsGroup: {{ .Values.podSecurity.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level security: read-only root, no privilege escalation, no capabilities. */}}
{{- define "resemble.containerSecurityContext" -}}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: [ALL]
{{- end -}}

{{/*
The init container that loads the market-data image into the pod: the image's own publish script (the same
one the compose `data` service runs) copies /data into the emptyDir as versions/<v>/ and points `current`
at it; the app container then mounts that volume read-only with DATA_DIR=/srv/market/current.
*/}}
{{- define "resemble.dataInitContainer" -}}
- name: load-data
  image: {{ include "resemble.dataImage" .root | quote }}
  imagePullPolicy: {{ include "resemble.dataPullPolicy" .root }}
  env:
    - name: KEEP_VERSIONS
      value: "1"
  securityContext:
    {{- include "resemble.containerSecurityContext" .root | nindent 4 }}
  resources:
    {{- toYaml .root.Values.data.initResources | nindent 4 }}
  volumeMounts:
    - name: market-data
      mountPath: /srv/market
{{- end -}}

{{- define "resemble.dataVolume" -}}
- name: market-data
  emptyDir:
    sizeLimit: {{ .Values.data.sizeLimit }}
{{- end -}}

{{- define "resemble.imagePullSecrets" -}}
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Secret keys as env vars: a list of [ENV_NAME, key, optional]. */}}
{{- define "resemble.secretEnv" -}}
{{- $secret := include "resemble.secretName" .root -}}
{{- range .keys }}
- name: {{ index . 0 }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ index . 1 }}
      optional: {{ index . 2 }}
{{- end }}
{{- end -}}
