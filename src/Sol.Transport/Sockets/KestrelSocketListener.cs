using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sol.Transport.Sockets;

/// <summary>
/// Accepts through Kestrel's socket transport (<see cref="SocketTransportFactory"/>), without the rest of Kestrel; its
/// pipes take their blocks from <see cref="BlockMemoryPool"/>, as the Pipelines listener's do.
/// </summary>
/// <remarks>
/// The transport's memory pool can only be handed over through dependency injection: <c>UseSockets</c> registers an
/// options setup that takes the <see cref="IMemoryPoolFactory{T}"/> found in the container (the options' own setter is
/// internal, and a factory built with <c>new</c> falls back to <see cref="MemoryPool{T}.Shared"/>, which allocated up to
/// ~3.8 KB per message under fan-out). So the factory comes from a small container of its own, filled by
/// <c>UseSockets</c> through <see cref="ServicesOnly"/>.
/// </remarks>
internal sealed class KestrelSocketListener : ISocketListener
{
    private readonly IConnectionListener _listener;
    private readonly ServiceProvider _services;

    private KestrelSocketListener(IConnectionListener listener, ServiceProvider services, PoolFactory pools)
    {
        _listener = listener;
        _services = services;
        Pools = pools;
        Endpoint = (IPEndPoint)listener.EndPoint;
    }

    public IPEndPoint Endpoint { get; }

    /// <summary>The memory pool factory the transport was given (tests: it was asked for a pool).</summary>
    internal PoolFactory Pools { get; }

    public static async Task<KestrelSocketListener> BindAsync(IPEndPoint endpoint, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var pools = new PoolFactory();
        var services = new ServiceCollection();
        services.AddSingleton(loggers);
        services.AddSingleton<IMemoryPoolFactory<byte>>(pools);
        new ServicesOnly(services).UseSockets();
        var provider = services.BuildServiceProvider();
        try
        {
            var factory = provider.GetRequiredService<IConnectionListenerFactory>();
            var listener = await factory.BindAsync(endpoint, cancellationToken).ConfigureAwait(false);
            return new KestrelSocketListener(listener, provider, pools);
        }
        catch
        {
            await provider.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask<TransportConnection?> AcceptAsync(CancellationToken cancellationToken)
    {
        try
        {
            var context = await _listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            return context is null ? null : new Connection(context);
        }
        catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _listener.UnbindAsync().ConfigureAwait(false);
        await _listener.DisposeAsync().ConfigureAwait(false);
        await _services.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Hands the transport <see cref="BlockMemoryPool.Instance"/>, and counts how often it was asked.</summary>
    internal sealed class PoolFactory : IMemoryPoolFactory<byte>
    {
        private int _created;

        public int Created => Volatile.Read(ref _created);

        public MemoryPool<byte> Create(MemoryPoolOptions? options = null)
        {
            Interlocked.Increment(ref _created);
            return BlockMemoryPool.Instance;
        }
    }

    /// <summary>
    /// Just enough <see cref="IWebHostBuilder"/> for <c>UseSockets</c> to register its services into a plain collection;
    /// there is no web host to build.
    /// </summary>
    private sealed class ServicesOnly(IServiceCollection services) : IWebHostBuilder
    {
#pragma warning disable ASPDEPR008 // IWebHost is obsolete, but the interface still declares Build(); never called.
        public IWebHost Build() => throw new NotSupportedException("only collects services");
#pragma warning restore ASPDEPR008

        public IWebHostBuilder ConfigureAppConfiguration(Action<WebHostBuilderContext, IConfigurationBuilder> configureDelegate) => this;

        public IWebHostBuilder ConfigureServices(Action<IServiceCollection> configureServices)
        {
            configureServices(services);
            return this;
        }

        public IWebHostBuilder ConfigureServices(Action<WebHostBuilderContext, IServiceCollection> configureServices)
        {
            configureServices(new WebHostBuilderContext(), services);
            return this;
        }

        public string? GetSetting(string key) => null;

        public IWebHostBuilder UseSetting(string key, string? value) => this;
    }

    private sealed class Connection(ConnectionContext context) : TransportConnection
    {
        public override IDuplexPipe Pipe => context.Transport;

        public override EndPoint? RemoteEndPoint => context.RemoteEndPoint;

        public override void Abort() => context.Abort();

        public override ValueTask DisposeAsync() => context.DisposeAsync();
    }
}
