namespace Sol.Server.Game.Port;

/// <summary>
/// A message encoded (and, where the port can, framed) once and sent to many connections: reference-counted pooled
/// bytes. The creator holds one reference; each connection that queues it takes one and releases it once written or
/// replaced; the last release returns the buffer to its pool.
/// </summary>
public abstract class SharedMessage
{
    private int _references = 1;

    public void AddReference()
    {
        if (Interlocked.Increment(ref _references) <= 1)
        {
            throw new InvalidOperationException("a released shared message was referenced again");
        }
    }

    public void Release()
    {
        var left = Interlocked.Decrement(ref _references);
        if (left == 0)
        {
            ReturnToPool();
        }
        else if (left < 0)
        {
            throw new InvalidOperationException("a shared message was released more often than referenced");
        }
    }

    /// <summary>Gives the bytes back to their pool; called once, by the last <see cref="Release"/>.</summary>
    protected abstract void ReturnToPool();

    /// <summary>For pooled reuse: a fresh single reference.</summary>
    protected void Revive() => Volatile.Write(ref _references, 1);
}
