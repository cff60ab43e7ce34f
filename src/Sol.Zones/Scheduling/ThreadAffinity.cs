using System.Runtime.InteropServices;

namespace Sol.Zones.Scheduling;

/// <summary>Pins the calling thread to one core through <c>sched_setaffinity(2)</c> on Linux.</summary>
internal static unsafe partial class ThreadAffinity
{
    private const int MaskWords = 16; // 1,024 CPUs, glibc's cpu_set_t

    /// <summary>Pins the calling thread to <paramref name="core"/>; the message says what happened, for the log.</summary>
    public static bool TryPinCurrentThread(int core, out string message)
    {
        if (!OperatingSystem.IsLinux())
        {
            message = $"thread pinning is only implemented on Linux; worker not pinned to core {core}";
            return false;
        }
        if ((uint)core >= MaskWords * 64)
        {
            message = $"core {core} is outside the affinity mask; worker not pinned";
            return false;
        }
        var mask = stackalloc ulong[MaskWords];
        new Span<ulong>(mask, MaskWords).Clear();
        mask[core / 64] = 1UL << (core % 64);
        // pid 0 means the calling thread.
        if (SchedSetAffinity(0, (nuint)(MaskWords * sizeof(ulong)), mask) != 0)
        {
            message = $"sched_setaffinity(core {core}) failed with errno {Marshal.GetLastPInvokeError()}; worker not pinned";
            return false;
        }
        message = $"worker pinned to core {core}";
        return true;
    }

    /// <summary>The cores the calling thread may run on (for tests), or -1 when not on Linux.</summary>
    public static long CurrentMask()
    {
        if (!OperatingSystem.IsLinux())
        {
            return -1;
        }
        var mask = stackalloc ulong[MaskWords];
        return SchedGetAffinity(0, (nuint)(MaskWords * sizeof(ulong)), mask) == 0 ? (long)mask[0] : -1;
    }

    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static partial int SchedSetAffinity(int pid, nuint size, ulong* mask);

    [LibraryImport("libc", EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static partial int SchedGetAffinity(int pid, nuint size, ulong* mask);
}
