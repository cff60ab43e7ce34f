namespace Sol.Transport;

/// <summary>
/// Holds back the writers of the sends made on this thread until it is disposed, so that everything sent to one
/// connection inside it — a game tick's snapshot, its acknowledgement and any error for that client — is written
/// and flushed together (one <c>sendmsg</c>), never split by a drainer that ran in between.
/// <code>using (SendBatch.Begin()) { foreach (var client in subscribers) { client.SendLatest(...); } }</code>
/// </summary>
/// <remarks>
/// <para>Only scheduling waits: every send is queued at once, as always (so <c>SendLatest</c> replacement and the
/// backlog limit behave as without a batch), and a connection already being written is not held. A batch costs the
/// first connections the time the rest of the batch takes, so keep it to one tick's sends.</para>
/// <para>Batches nest (the outermost one releases) and belong to the thread that began them; dispose each exactly once,
/// on that thread. Allocation-free once this thread's list of held writers has grown to the largest batch.</para>
/// </remarks>
public readonly struct SendBatch : IDisposable
{
    [ThreadStatic]
    private static int t_depth;

    [ThreadStatic]
    private static List<WebSocketConnection>? t_held;

    private readonly int _thread; // 0: default(SendBatch), which holds nothing

    private SendBatch(int thread) => _thread = thread;

    /// <summary>Starts holding this thread's sends (or nests in the batch already open).</summary>
    public static SendBatch Begin()
    {
        t_depth++;
        return new SendBatch(Environment.CurrentManagedThreadId);
    }

    /// <summary>A batch is open on this thread.</summary>
    public static bool IsOpen => t_depth > 0;

    /// <summary>Ends this batch; the outermost one hands every held writer to its scheduler.</summary>
    /// <exception cref="InvalidOperationException">Another thread than the one that began it (an await in between).</exception>
    public void Dispose()
    {
        if (_thread == 0)
        {
            return; // default(SendBatch)
        }
        if (_thread != Environment.CurrentManagedThreadId)
        {
            throw new InvalidOperationException("A SendBatch must end on the thread that began it; its held writers are still waiting there.");
        }
        if (t_depth == 0)
        {
            return; // more ends than begins
        }
        if (--t_depth > 0 || t_held is not { Count: > 0 } held)
        {
            return;
        }
        try
        {
            foreach (var connection in held)
            {
                connection.ReleaseHeld();
            }
        }
        finally
        {
            held.Clear();
        }
    }

    /// <summary>Keeps a writer that was just marked scheduled until the batch ends; false when no batch is open.</summary>
    internal static bool TryHold(WebSocketConnection connection)
    {
        if (t_depth == 0)
        {
            return false;
        }
        (t_held ??= []).Add(connection);
        return true;
    }
}
