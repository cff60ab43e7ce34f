using System.Globalization;
using System.Runtime.InteropServices;

namespace Sol.Bench.Transport;

/// <summary>
/// The echo host of the interop stage (scripts/stages/transport-interop.sh): <c>transport-echo [--port N]
/// [--sockets pipelines|kestrel|raw|aspnet|direct]</c>. Echoes text as text and binary as binary on <c>/ws</c>, asks for the
/// subprotocol <c>echo.v1</c> (aspnet and direct: accept it when offered; they are there to check the tests themselves,
/// and direct does not validate UTF-8), prints
/// <c>listening on ws://127.0.0.1:PORT/ws</c> and runs until SIGTERM or SIGINT.
/// </summary>
public static class TransportEchoHost
{
    public static async Task<int> RunAsync(string[] args)
    {
        var port = 0;
        var kind = BenchServerKind.Raw;
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var ok = args[i] switch
            {
                "--port" => int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out port),
                "--sockets" => BenchServerHost.TryParseKind(args[i + 1], out kind),
                _ => false,
            };
            if (!ok)
            {
                await Console.Error.WriteLineAsync("usage: transport-echo [--port N] [--sockets pipelines|kestrel|raw|aspnet|direct]");
                return 2;
            }
        }
        if (args.Length % 2 != 0)
        {
            await Console.Error.WriteLineAsync("usage: transport-echo [--port N] [--sockets pipelines|kestrel|raw|aspnet|direct]");
            return 2;
        }
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        IBenchServer server;
        try
        {
            server = await IBenchServer.StartAsync(kind, port, requireSubProtocol: true);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or NotSupportedException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync($"transport-echo: could not start: {e.Message}");
            return 1;
        }
        await using var running = server;
        Console.WriteLine($"listening on ws://127.0.0.1:{server.Port}/ws");
        await Console.Out.FlushAsync();
        await stopped.Task;
        return 0;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stopped.TrySetResult();
        }
    }
}
