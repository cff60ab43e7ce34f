using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Sol.Transport.Tests.Support;

/// <summary>A logger factory whose loggers keep every entry (category, level, message, exception).</summary>
public sealed class RecordingLoggerFactory : ILoggerFactory
{
    public ConcurrentQueue<LogEntry> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new RecordingLogger(categoryName, Entries);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }
}

public sealed record LogEntry(string Category, LogLevel Level, string Message, Exception? Exception);

public sealed class RecordingLogger(string category, ConcurrentQueue<LogEntry> entries) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        entries.Enqueue(new LogEntry(category, logLevel, formatter(state, exception), exception));
}
