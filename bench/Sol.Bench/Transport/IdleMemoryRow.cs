namespace Sol.Bench.Transport;

/// <summary>Memory the server holds per idle connection.</summary>
/// <param name="Server">The server.</param>
/// <param name="Connections">Idle connections the harness opened (and the server counted).</param>
/// <param name="ResidentPerConnection">Growth of the server's resident set size, per connection (bytes).</param>
/// <param name="HeapPerConnection">Growth of its managed heap after a full GC, per connection (bytes).</param>
/// <param name="Note">Why fewer connections than asked were opened, when that happened.</param>
public sealed record IdleMemoryRow(BenchServerKind Server, int Connections, double ResidentPerConnection,
    double HeapPerConnection, string? Note);
