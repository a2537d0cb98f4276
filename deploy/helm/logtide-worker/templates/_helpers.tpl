{{- define "logtide.name" -}}{{ .Release.Name | trunc 50 | trimSuffix "-" }}-worker{{- end -}}

{{- define "logtide.labels" -}}
app.kubernetes.io/name: logtide-worker
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "logtide.selector" -}}
app.kubernetes.io/name: logtide-worker
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "logtide.serviceAccount" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "logtide.name" .) .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}

{{- define "logtide.image" -}}
{{- if .Values.image.digest -}}{{ .Values.image.repository }}@{{ .Values.image.digest }}{{- else -}}{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}{{- end -}}
{{- end -}}
