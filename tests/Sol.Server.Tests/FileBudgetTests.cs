using Sol.Server.Hosting;

namespace Sol.Server.Tests;

public sealed class FileBudgetTests
{
    [Fact]
    public void AGenerousLimitKeepsTheConfiguredLimitsAndGivesTheRestToHttp()
    {
        // 20,000 files, 200 open: 19,608 to share; handshakes keep their 1,024, the game its 10,000.
        var budget = FileBudget.Plan(20_000, 200, maxConnections: 10_000, maxPendingHandshakes: 1024)!.Value;
        Assert.Equal((10_000, 1024, 19_608 - 10_000 - 1024), (budget.GameConnections, budget.PendingHandshakes, budget.HttpConnections));
    }

    [Fact]
    public void ACommonLimitOf1024CapsTheGameConnections()
    {
        // 1,024 − 200 − 192 = 632 to share: a tenth (63) to handshakes, a quarter (158) to HTTP, the rest to the game.
        var budget = FileBudget.Plan(1024, 200, maxConnections: 10_000, maxPendingHandshakes: 1024)!.Value;
        Assert.Equal((632 - 63 - 158, 63, 158), (budget.GameConnections, budget.PendingHandshakes, budget.HttpConnections));
        Assert.Equal(632, budget.GameConnections + budget.PendingHandshakes + budget.HttpConnections);
    }

    [Fact]
    public void FewerGameConnectionsAskedForLeaveTheRestToHttp()
    {
        var budget = FileBudget.Plan(1024, 200, maxConnections: 100, maxPendingHandshakes: 1024)!.Value;
        Assert.Equal((100, 63, 632 - 100 - 63), (budget.GameConnections, budget.PendingHandshakes, budget.HttpConnections));
    }

    [Fact]
    public void AnUnknownOrUnlimitedLimitChangesNothing()
    {
        Assert.Null(FileBudget.Plan(null, 200, 10_000, 1024));
        Assert.Null(FileBudget.Plan(1024, null, 10_000, 1024));
        Assert.Null(FileBudget.Plan(long.MaxValue, 200, 10_000, 1024));
    }

    [Fact]
    public void ALimitThatLeavesNoRoomStopsTheStartWithOneLine()
    {
        var e = Assert.Throws<ServerStartException>(() => FileBudget.Plan(300, 200, 10_000, 1024));
        Assert.Equal("the open-file limit (300, with 200 in use) leaves room for 0 connections, fewer than 64: raise it (ulimit -n, or LimitNOFILE= in a systemd unit)", e.Message);
    }

    [Fact]
    public void ALimitTooLowToLoadTheServerIsToldBeforeTheStart()
    {
        var e = Assert.Throws<ServerStartException>(() => FileBudget.CheckRoomToStart(100, 59));
        Assert.Equal("the open-file limit (100, with 59 in use) is too low to start: the server needs at least 379; raise it (ulimit -n, or LimitNOFILE= in a systemd unit)", e.Message);
        FileBudget.CheckRoomToStart(379, 59);
        FileBudget.CheckRoomToStart(null, 59); // unknown: the plan decides later
        FileBudget.CheckRoomToStart(100, null);
    }

    [Fact]
    public void ThisProcesssLimitAndOpenFilesAreRead()
    {
        // /proc on Linux (the only platform this server is run on here): both known, unless the limit is "unlimited".
        var limits = File.ReadAllLines("/proc/self/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        if (limits.Contains("unlimited", StringComparison.Ordinal))
        {
            Assert.Null(Sol.Core.Processes.OpenFiles.Limit());
        }
        else
        {
            Assert.Equal(long.Parse(limits.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3], System.Globalization.CultureInfo.InvariantCulture), Sol.Core.Processes.OpenFiles.Limit());
        }
        var open = Sol.Core.Processes.OpenFiles.Count();
        Assert.NotNull(open);
        Assert.True(open > 3);
    }
}
