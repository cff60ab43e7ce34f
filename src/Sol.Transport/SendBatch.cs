namespace Sol.Transport;

/// <summary>
/// Holds back the writers of the sends made on this thread until it is disposed, so that everything sent to one
/// connection inside it — a game tick's snapshot, its acknowledgement and any error for that client — is written
/// and flushed together (one <c>sendmsg</c>), never split by a drainer that ran in between.
/// <code>using (SendBatch.Begin()) { foreach (var client in subscribers) { client.SendLatest(...); } }</code>
/// </summary>
/// <remarks>
/// <para>Only scheduling waits: every send is queued at once, as always (so <c>SendLatest</c> replacement and the
/// backlog limit behave as without a batch), and a connection whose writer is already running or waiting on a slow
/// client is not held. A batch costs the first connections the time the rest of the batch takes, so keep it to one
/// tick's sends.</para>
/// <para>Batches nest (the outermost one releases) and belong to the thread that began them: a <c>ref struct</c>, so
/// one cannot be kept across an <c>await</c>. A batch left open on an I/O loop is closed by the loop and reported as
/// a fault. Allocation-free once this thread's list of held writers has grown to the largest batch.</para>
/// </remarks>
public readonly ref struct SendBatch
{
    [ThreadStatic]
    private static int t_depth;

    [ThreadStatic]
    private static List<WebSocketConnection>? t_held;

    private readonly bool _begun; // false: default(SendBatch), which holds nothing

    private SendBatch(bool begun) => _begun = begun;

    /// <summary>Starts holding this thread's sends (or nests in the batch already open).</summary>
    public static SendBatch Begin()
    {
        t_depth++;
        return new SendBatch(begun: true);
    }

    /// <summary>A batch is open on this thread.</summary>
    public static bool IsOpen => t_depth > 0;

    /// <summary>Ends this batch; the outermost one hands every held writer to its scheduler.</summary>
    public void Dispose()
    {
        if (!_begun || t_depth == 0)
        {
            return; // default(SendBatch), or more ends than begins
        }
        if (--t_depth == 0)
        {
            ReleaseHeld();
        }
    }

    /// <summary>Closes every batch open on this thread and releases what they held (an I/O loop's safety net).</summary>
    /// <returns>True when a batch was open.</returns>
    internal static bool CloseAll()
    {
        if (t_depth == 0)
        {
            return false;
        }
        t_depth = 0;
        ReleaseHeld();
        return true;
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

    private static void ReleaseHeld()
    {
        if (t_held is not { Count: > 0 } held)
        {
            return;
        }
        Exception? first = null;
        foreach (var connection in held)
        {
            try
            {
                connection.ReleaseHeld();
            }
            catch (Exception e)
            {
                first ??= e; // the others still go (each is marked scheduled: left here, it would never write again)
            }
        }
        held.Clear();
        if (first is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        }
    }
}
