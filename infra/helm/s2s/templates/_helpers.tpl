{{- define "s2s.name" -}}{{ .Release.Name }}-s2s{{- end -}}
{{- define "s2s.labels" -}}
app.kubernetes.io/name: s2s
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
{{- define "s2s.secretName" -}}{{ .Values.existingSecret | default (printf "%s-secrets" (include "s2s.name" .)) }}{{- end -}}
{{- define "s2s.modelsClaim" -}}{{ .Values.models.existingClaim | default (printf "%s-models" (include "s2s.name" .)) }}{{- end -}}
{{- define "s2s.envFrom" -}}
- configMapRef:
    name: {{ include "s2s.name" . }}-settings
- secretRef:
    name: {{ include "s2s.secretName" . }}
{{- end -}}
{{- define "s2s.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: false
capabilities:
  drop: [ALL]
{{- end -}}
