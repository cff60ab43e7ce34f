using System.Runtime.InteropServices;

namespace Sol.Transport.Sockets;

/// <summary>
/// The few Linux calls an <see cref="IoLoop"/> needs: an epoll instance, an eventfd to wake it, and the calls on them.
/// Only x64 and Arm64: <c>struct epoll_event</c> is packed to 12 bytes on x64 and 16 on Arm64, and this reads it by
/// offset, so other architectures (and other systems) keep the runtime's socket engine.
/// </summary>
internal static unsafe partial class Epoll
{
    public const uint In = 0x001;
    public const uint Out = 0x004;
    public const uint Err = 0x008;
    public const uint Hup = 0x010;
    public const uint ReadHangUp = 0x2000;
    public const uint EdgeTriggered = 1u << 31;

    private const int CtlAdd = 1;
    private const int CtlDel = 2;
    private const int CloseOnExec = 0x80000;  // EPOLL_CLOEXEC, EFD_CLOEXEC
    private const int EventFdNonBlock = 0x800; // EFD_NONBLOCK
    private const int EIntr = 4;

    /// <summary>Bytes from one event to the next in an <c>epoll_wait</c> array.</summary>
    public static readonly int EventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    /// <summary>Where an event's user data begins.</summary>
    private static readonly int DataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    /// <summary>Linux on x64 or Arm64 with the calls loadable (probed once).</summary>
    public static bool IsSupported { get; } = Probe();

    public static int Create()
    {
        var fd = EpollCreate1(CloseOnExec);
        return fd >= 0 ? fd : throw Fail("epoll_create1");
    }

    public static int CreateEventFd()
    {
        var fd = EventFd(0, CloseOnExec | EventFdNonBlock);
        return fd >= 0 ? fd : throw Fail("eventfd");
    }

    /// <summary>Watches <paramref name="fd"/> for <paramref name="events"/>, reporting <paramref name="data"/> with them.</summary>
    public static void Add(int epoll, int fd, uint events, nint data)
    {
        var buffer = stackalloc byte[16];
        *(uint*)buffer = events;
        *(long*)(buffer + DataOffset) = data;
        if (EpollCtl(epoll, CtlAdd, fd, buffer) != 0)
        {
            throw Fail("epoll_ctl(ADD)");
        }
    }

    /// <summary>Stops watching <paramref name="fd"/>; false when it was not watched (or is closed).</summary>
    public static bool Remove(int epoll, int fd)
    {
        var buffer = stackalloc byte[16]; // kernels before 2.6.9 wanted one even for DEL
        return EpollCtl(epoll, CtlDel, fd, buffer) == 0;
    }

    /// <summary>Waits for events (-1: no timeout); the count, 0 when interrupted or timed out.</summary>
    public static int Wait(int epoll, byte* events, int capacity, int timeoutMs)
    {
        var count = EpollWait(epoll, events, capacity, timeoutMs);
        if (count >= 0)
        {
            return count;
        }
        return Marshal.GetLastPInvokeError() == EIntr ? 0 : throw Fail("epoll_wait");
    }

    public static uint EventsAt(byte* events, int index) => *(uint*)(events + (index * EventSize));

    public static nint DataAt(byte* events, int index) => (nint)(*(long*)(events + (index * EventSize) + DataOffset));

    /// <summary>Adds one to the eventfd's counter (wakes its epoll).</summary>
    public static void Signal(int eventFd)
    {
        ulong one = 1;
        while (Write(eventFd, &one, 8) < 0 && Marshal.GetLastPInvokeError() == EIntr)
        {
        }
        // EAGAIN (the counter is full) still leaves it readable: the wake-up is there.
    }

    /// <summary>Resets the eventfd's counter (non-blocking).</summary>
    public static void Drain(int eventFd)
    {
        ulong value;
        while (Read(eventFd, &value, 8) < 0 && Marshal.GetLastPInvokeError() == EIntr)
        {
        }
    }

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux()
            || RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64))
        {
            return false;
        }
        try
        {
            var fd = EpollCreate1(CloseOnExec);
            if (fd < 0)
            {
                return false;
            }
            Close(fd);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    private static IOException Fail(string call) =>
        new($"{call} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    private static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static partial int EpollCtl(int epoll, int op, int fd, byte* ev);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    private static partial int EpollWait(int epoll, byte* events, int capacity, int timeout);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    private static partial int EventFd(uint initial, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint Read(int fd, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint Write(int fd, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
