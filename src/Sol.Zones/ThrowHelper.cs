using System.Diagnostics.CodeAnalysis;

namespace Sol.Zones;

/// <summary>Throw helpers: hot methods call these so that they stay small and inlinable.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowArgumentOutOfRange(string name) => throw new ArgumentOutOfRangeException(name);

    [DoesNotReturn]
    public static void ThrowInvalidOperation(string message) => throw new InvalidOperationException(message);

    [DoesNotReturn]
    public static void ThrowArgument(string message, string name) => throw new ArgumentException(message, name);
}
