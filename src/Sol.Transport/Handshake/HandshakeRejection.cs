namespace Sol.Transport.Handshake;

/// <summary>Why an upgrade was refused: the HTTP status and a text/plain reason.</summary>
internal readonly record struct HandshakeRejection(int Status, string Reason);
