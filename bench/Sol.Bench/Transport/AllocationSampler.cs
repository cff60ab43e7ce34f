using System.Diagnostics.Tracing;
using System.Globalization;

namespace Sol.Bench.Transport;

/// <summary>
/// Which types a server allocates, sampled by the runtime's own GC allocation ticks (one event about every 100 KB
/// allocated, naming the type and size of the object whose allocation crossed the mark). For finding per-message allocations:
/// <c>transport-e2e --alloc-types</c>. Listening costs the server a little, so the normal run does not.
/// </summary>
public sealed class AllocationSampler : EventListener
{
    private const int GcKeyword = 0x1;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _bytes = [];

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true ||
            eventData.PayloadNames is not { } names || eventData.Payload is not { } payload)
        {
            return;
        }
        var type = names.IndexOf("TypeName") is var t and >= 0 ? payload[t] as string : null;
        var amount = names.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(payload[a], CultureInfo.InvariantCulture) : 0;
        var size = names.IndexOf("ObjectSize") is var o and >= 0 ? Convert.ToInt64(payload[o], CultureInfo.InvariantCulture) : 0;
        lock (_lock)
        {
            var key = size > 0 ? string.Create(CultureInfo.InvariantCulture, $"{type ?? "?"}({size}B)") : type ?? "?";
            _bytes[key] = _bytes.GetValueOrDefault(key) + amount;
        }
    }

    /// <summary>The <paramref name="count"/> types with the most sampled bytes since the last call, as <c>type=KB;...</c>.</summary>
    public string TakeTop(int count)
    {
        lock (_lock)
        {
            var top = string.Join(';', _bytes.OrderByDescending(p => p.Value).Take(count)
                .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key.Replace(' ', '_').Replace(';', ',')}={p.Value / 1024}KB")));
            _bytes.Clear();
            return top.Length == 0 ? "-" : top;
        }
    }
}
