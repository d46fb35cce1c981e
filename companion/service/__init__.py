"""The machine service: data, credentials, the rules' authority and delivery, out of the
student's reach (docs/service-protocol.md).

``handler.Service`` answers the protocol's requests through one ``authority.Authority``;
``endpoint`` serves it on a Unix socket (the caller's OS account checked) or in-process on
a socket pair; ``client.ServiceClient`` is the app's side, the same for both hostings.
"""

from companion.service.protocol import PROTOCOL_VERSION

__all__ = ["PROTOCOL_VERSION"]
