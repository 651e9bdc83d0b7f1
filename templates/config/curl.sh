{{#one_way}}
# The Milvus REST API over one-way TLS (tlsMode 1): curl checks the server against the CA.
{{/one_way}}
{{#mutual}}
# The Milvus REST API over mutual TLS (tlsMode 2): curl checks the server against the CA and
# shows the client certificate.
{{/mutual}}
# REST answers on proxy.http.port ({{rest_port}} in `certgen config milvus`), not on the gRPC
# port {{grpc_port}}: with TLS on, Milvus does not serve both on one port.
{{#resolve_hint}}
# {{server_name}} has to resolve to the Milvus host. Until it does, add this option, with the
# host's address in place of 127.0.0.1:
#   --resolve {{resolve}}
{{/resolve_hint}}
curl --cacert {{ca_pem}} \
{{#mutual}}
  --cert {{client_pem}} --key {{client_key}} \
{{/mutual}}
  -H 'Content-Type: application/json' -d '{}' \
  {{url}}
