{{/*
The release's full name: the release name when it already holds the chart's name (the usual
"helm install vault-mfa-operator ..."), else "<release>-vault-mfa-operator". Cut to 63
characters, the limit of a label value and of most object names.
*/}}
{{- define "vault-mfa-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
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
