{{/*
The release's full name: the release name when it already holds the chart's name (the usual
"helm install vault-mfa-operator ..."), else "<release>-vault-mfa-operator". Cut to 47
characters, so that every name made from it, up to <fullname>-leader-election, stays within 63
(which a Service name, <fullname>-metrics, must; the others are kept to it alike). Two release
names alike in their first 47 characters would get the same names: Helm refuses the second.
*/}}
{{- define "vault-mfa-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 47 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 47 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels on every object; deploy/ sets the first two, the chart adds the release's. */}}
{{- define "vault-mfa-operator.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/part-of: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* What selects the pods of this release, and only those. */}}
{{- define "vault-mfa-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/*
operator.yaml: the values' config, with the Lease named after the release unless a name is
given, so that two releases in one namespace never share a Lease.
*/}}
{{- define "vault-mfa-operator.config" -}}
{{- $config := deepCopy .Values.config -}}
{{- $election := default (dict) $config.leaderElection -}}
{{- if not $election.leaseName -}}
{{- $_ := set $election "leaseName" (include "vault-mfa-operator.fullname" .) -}}
{{- end -}}
{{- $_ := set $config "leaderElection" $election -}}
{{- toYaml $config -}}
{{- end -}}


{{/*
Environment variables the chart sets itself: a value in env of the same name would silently win
or lose depending on the order, so the chart refuses it and names the value to use instead.
*/}}
{{- define "vault-mfa-operator.checkEnv" -}}
{{- $reserved := dict "VAULTMFA_CONFIG" "config" "VAULTMFA_LEADER_ELECTION" "replicaCount (leader election is always on)" "VAULTMFA_LEASE_NAMESPACE" "the release namespace (the Lease's Role is there)" "VAULTMFA_METRICS_PORT" "config.metrics.port (the probes and the Service use it)" "POD_NAMESPACE" "the release namespace" "JAVA_TOOL_OPTIONS" "javaToolOptions" -}}
{{- range .Values.env -}}
{{- if hasKey $reserved (toString .name) -}}
{{- fail (printf "env: %s is reserved by the chart; use %s instead" .name (get $reserved (toString .name))) -}}
{{- end -}}
{{- end -}}
{{- end -}}
