using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Sol.Transport.Sockets;

/// <summary>
/// One <c>sendmsg</c> for several pinned buffers (Linux): <see cref="Socket"/>'s own gathering send allocates handle and
/// vector arrays on every call, and one system call per 4 KiB block cost the raw kind a third more CPU per message
/// flat out with 2 KiB messages (bench/results/transport-e2e.md). Non-blocking (<c>MSG_DONTWAIT</c>) and without
/// SIGPIPE on a reset peer (<c>MSG_NOSIGNAL</c>).
/// </summary>
internal static unsafe partial class LinuxSend
{
    /// <summary>Buffers per call at most (more wait for the next call; the kernel takes 1,024).</summary>
    public const int MaxVectors = 32;

    /// <summary>The flags of every send (here and in <see cref="IoRing"/>): non-blocking, and no SIGPIPE on a reset peer.</summary>
    internal const int Flags = MsgDontWait | MsgNoSignal;

    internal const int EAgain = 11;
    internal const int EIntr = 4;

    private const int MsgDontWait = 0x40;
    private const int MsgNoSignal = 0x4000;

    /// <summary>Linux with a loadable <c>sendmsg</c> (probed once with an invalid descriptor; else sends go through <see cref="Socket"/>).</summary>
    public static bool IsSupported { get; } = Probe();

    /// <summary>Sends what it can of <paramref name="count"/> buffers; the bytes sent, or 0 with the error (WouldBlock when the kernel is full).</summary>
    /// <remarks>The buffers must stay pinned for the call (they are <see cref="BlockMemoryPool"/> blocks, on the pinned heap).</remarks>
    public static int Send(SafeSocketHandle handle, IoVector* vectors, int count, out SocketError error)
    {
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var header = new MessageHeader { Vectors = vectors, VectorCount = (nuint)count };
            while (true)
            {
                var sent = SendMsg((int)handle.DangerousGetHandle(), &header, Flags);
                if (sent >= 0)
                {
                    error = SocketError.Success;
                    return (int)sent;
                }
                var errno = Marshal.GetLastPInvokeError();
                if (errno == EIntr)
                {
                    continue;
                }
                error = errno == EAgain ? SocketError.WouldBlock : SocketError.SocketError;
                return 0;
            }
        }
        catch (ObjectDisposedException)
        {
            error = SocketError.OperationAborted; // closed under us
            return 0;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }
        try
        {
            var header = default(MessageHeader);
            return SendMsg(-1, &header, Flags) == -1; // EBADF: the call is there
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static partial nint SendMsg(int socket, MessageHeader* message, int flags);

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVector
    {
        public byte* Base;
        public nuint Length;
    }

    /// <summary><c>struct msghdr</c> as glibc lays it out (natural alignment; socklen_t then padding).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct MessageHeader
    {
        public void* Name;
        public uint NameLength;
        public IoVector* Vectors;
        public nuint VectorCount;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }
}
