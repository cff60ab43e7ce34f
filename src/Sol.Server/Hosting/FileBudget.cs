namespace Sol.Server.Hosting;

/// <summary>
/// How the process's open files (its descriptor limit, <c>ulimit -n</c>) are shared: every game connection and every
/// socket still in its handshake is one, every HTTP connection one, and the runtime needs some of its own at any time —
/// to start a thread (the thread pool grows under load), to load an assembly, to open the database.
/// </summary>
/// <remarks>
/// At the limit the runtime cannot start a thread and ends the process ("Out of memory.", helper-54 reproduced it with
/// <c>ulimit -n 400</c> and 220 connections), so the limits are set at the start to stay under it: the open files
/// already in use, a reserve for the runtime, then a tenth of the rest for handshakes, a quarter at least for HTTP, the
/// game connections (up to <c>--max-connections</c>), and what is left to HTTP.
/// </remarks>
public readonly record struct FileBudget(long Limit, int Open, int GameConnections, int PendingHandshakes, int HttpConnections)
{
    /// <summary>Open files kept for the runtime and the database beyond those in use at the start.</summary>
    public const int RuntimeReserve = 192;

    /// <summary>The least room for connections (game, handshakes, HTTP) a server starts with.</summary>
    public const int MinimumForConnections = 64;

    /// <summary>
    /// Open files the start takes between the command line and <see cref="Plan"/>: the ASP.NET Core and database
    /// assemblies it loads, the database, the listening sockets, the I/O loops' epoll and io_uring descriptors (46
    /// measured on Linux x64: 59 open after the command line was read, 105 at the plan), with a margin.
    /// </summary>
    public const int OpenedToStart = 64;

    /// <summary>
    /// Throws <see cref="ServerStartException"/> when <paramref name="limit"/> open files, with <paramref name="open"/>
    /// in use, cannot even hold what the start loads and the least room for connections. Checked before the start
    /// loads anything: at <c>ulimit -n 100</c> the runtime failed to load an assembly of its own and the process ended
    /// with a FileNotFoundException's stack trace.
    /// </summary>
    public static void CheckRoomToStart(long? limit, int? open)
    {
        if (limit is { } l && open is { } o && l < o + OpenedToStart + RuntimeReserve + MinimumForConnections)
        {
            throw new ServerStartException(
                $"the open-file limit ({l}, with {o} in use) is too low to start: the server needs at least {o + OpenedToStart + RuntimeReserve + MinimumForConnections}; raise it (ulimit -n, or LimitNOFILE= in a systemd unit)");
        }
    }

    /// <summary>
    /// The limits for <paramref name="limit"/> open files with <paramref name="open"/> in use; null when the limit is not
    /// known or is unlimited (nothing to share). Throws <see cref="ServerStartException"/> when it leaves too little room.
    /// </summary>
    public static FileBudget? Plan(long? limit, int? open, int maxConnections, int maxPendingHandshakes)
    {
        if (limit is not { } l || open is not { } o || l >= int.MaxValue)
        {
            return null;
        }
        var available = l - o - RuntimeReserve;
        if (available < MinimumForConnections)
        {
            throw new ServerStartException(
                $"the open-file limit ({l}, with {o} in use) leaves room for {Math.Max(0, available)} connections, fewer than {MinimumForConnections}: raise it (ulimit -n, or LimitNOFILE= in a systemd unit)");
        }
        // Handshakes are short (5 s at most): a tenth. HTTP at least a quarter: a page load opens up to six connections,
        // which browsers keep idle until the server's keep-alive timeout ends them (helper-55: with a tenth, a dozen page
        // loads shut new visitors out at ulimit -n 1024).
        var pending = (int)Math.Min(maxPendingHandshakes, Math.Max(8, available / 10));
        var httpAtLeast = (int)Math.Max(16, available / 4);
        var game = (int)Math.Min(maxConnections, available - pending - httpAtLeast);
        var http = (int)Math.Min(int.MaxValue, available - pending - game);
        return new FileBudget(l, o, game, pending, http);
    }
}
