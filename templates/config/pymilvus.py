{{#one_way}}
# pymilvus over one-way TLS (tlsMode 1): the client checks the server's certificate.
{{/one_way}}
{{#mutual}}
# pymilvus over mutual TLS (tlsMode 2): the client checks the server's certificate and shows
# its own.
{{/mutual}}
from pymilvus import MilvusClient

client = MilvusClient(
    uri={{uri}},
    secure=True,
{{#one_way}}
    # Despite its name, pymilvus hands server_pem_path to gRPC as the root certificate to
    # trust. So the CA goes here rather than server.pem: the CA signed the server's
    # certificate, and still vouches for the next one after a re-issue.
    server_pem_path={{ca_pem}},
{{/one_way}}
{{#mutual}}
    client_pem_path={{client_pem}},
    client_key_path={{client_key}},
    # The root certificate to trust. server_pem_path stays out: recent pymilvus versions
    # use it in place of the client certificate and key when both are given.
    ca_pem_path={{ca_pem}},
{{/mutual}}
    # The name gRPC checks in the server's certificate: one of its subjectAltNames.
    server_name={{server_name}},
)
