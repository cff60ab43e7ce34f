using System.Reflection;
using Microsoft.Extensions.Logging.Abstractions;
using Sol.Persistence;
using Sol.Server.Http;
using Sol.Server.Progress;
using Sol.Testing;

namespace Sol.Server.Tests;

public sealed class DatabaseProbeTests : IAsyncDisposable
{
    private readonly TempDirectory _directory = new();

    [Fact]
    public async Task AProbeThatNeverAnswersIsUnreachableNotAHungHealthCheck()
    {
        // helper-78: the 2 s limit was only the token given to the store; a store that ignored it hung /healthz, and every
        // later /healthz waited on the same probe.
        await using var real = await SolStore.OpenAsync(_directory.File("sol.db"));
        await using var progress = new PlayerWriteBehind(real, TimeSpan.FromHours(1), NullLogger.Instance);
        var probe = new DatabaseProbe(HangingStore.Create(), progress, TimeProvider.System);

        Assert.Equal("unreachable", await probe.StateAsync().WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("unreachable", await probe.StateAsync().WaitAsync(TimeSpan.FromSeconds(20))); // the next one too
    }

    [Fact]
    public async Task AnAnsweringDatabaseIsOk()
    {
        await using var real = await SolStore.OpenAsync(_directory.File("ok.db"));
        await using var progress = new PlayerWriteBehind(real, TimeSpan.FromHours(1), NullLogger.Instance);
        Assert.Equal("ok", await new DatabaseProbe(real, progress, TimeProvider.System).StateAsync().WaitAsync(TimeSpan.FromSeconds(20)));
    }

    public ValueTask DisposeAsync()
    {
        _directory.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>An <see cref="ISolStore"/> whose schema query never completes, whatever its token says.</summary>
    public class HangingStore : DispatchProxy
    {
        public static ISolStore Create() => Create<ISolStore, HangingStore>();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) => targetMethod?.Name switch
        {
            nameof(ISolStore.SchemaVersionAsync) => new TaskCompletionSource<int>().Task,
            _ => throw new NotSupportedException(targetMethod?.Name),
        };
    }
}
