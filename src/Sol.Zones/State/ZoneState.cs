using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Sol.Zones.Input;
using Sol.Zones.Simulation;

namespace Sol.Zones.State;

/// <summary>
/// The struct-of-arrays state of one zone: one contiguous array per component, dense in <c>[0, Count)</c>, with
/// swap-remove and a slot table that turns stable <see cref="EntityHandle"/>s into dense indices.
/// </summary>
/// <remarks>
/// Thread rules: owned by its <see cref="Simulation.Zone"/>; read and written only by the thread stepping that zone, or
/// by the scheduler's coordinator between ticks (when no worker runs). Nothing here is synchronised.
/// Growth doubles every column at once; it allocates only when the zone holds more entities than ever before, never
/// per tick. Columns are fields, not properties, so that systems can take <c>ref</c>s into them.
/// </remarks>
internal sealed class ZoneState
{
    // Motion (the hot columns).
    internal double[] PositionX;
    internal double[] PositionY;
    internal double[] VelocityX;
    internal double[] VelocityY;
    internal float[] Rotation;
    internal float[] AngularVelocity;
    internal float[] Hull;

    // Identity.
    internal EntityKind[] Kind;
    internal EntityFlags[] Flags;
    internal long[] Owner;
    internal int[] Ref;
    internal byte[] ShipClass;

    // Control component: the latest input applied, kept until the next one arrives.
    internal uint[] InputSeq;
    internal float[] ThrustInput;
    internal float[] TurnInput;
    internal ShipAction[] Request;
    internal int[] RequestTarget;

    // Dense index -> slot; slot -> dense index and generation.
    internal int[] DenseToSlot;
    private int[] _slotToDense;
    private int[] _slotGeneration;
    private int[] _freeSlots;
    private int _freeCount;
    private int _slotsUsed;

    /// <param name="initialCapacity">
    /// Entities room is made for up front (at least 4); 0: none until the first is added (a planet surface nobody has
    /// visited holds only the runtime's shared empty arrays: most zones of a big galaxy never hold anything).
    /// </param>
    public ZoneState(int initialCapacity)
    {
        PositionX = PositionY = VelocityX = VelocityY = [];
        Rotation = AngularVelocity = Hull = ThrustInput = TurnInput = [];
        Kind = [];
        Flags = [];
        Owner = [];
        Ref = RequestTarget = DenseToSlot = _slotToDense = _slotGeneration = _freeSlots = [];
        ShipClass = [];
        InputSeq = [];
        Request = [];
        if (initialCapacity > 0)
        {
            Grow(Math.Max(4, initialCapacity));
        }
    }

    /// <summary>Live entities, dense in <c>[0, Count)</c>.</summary>
    public int Count { get; private set; }

    public int Capacity => PositionX.Length;

    /// <summary>Adds an entity with every component zeroed except those given; returns its handle.</summary>
    public EntityHandle Add(EntityKind kind, EntityFlags flags, long owner, int reference, double x, double y)
    {
        if (Count == Capacity)
        {
            Grow(Math.Max(4, Capacity * 2));
        }
        int slot;
        if (_freeCount > 0)
        {
            slot = _freeSlots[--_freeCount];
        }
        else
        {
            slot = _slotsUsed++;
            _slotGeneration[slot] = 1;
        }
        var i = Count++;
        PositionX[i] = x;
        PositionY[i] = y;
        VelocityX[i] = 0;
        VelocityY[i] = 0;
        Rotation[i] = 0;
        AngularVelocity[i] = 0;
        Hull[i] = 0;
        Kind[i] = kind;
        Flags[i] = flags;
        Owner[i] = owner;
        Ref[i] = reference;
        ShipClass[i] = 0;
        InputSeq[i] = 0;
        ThrustInput[i] = 0;
        TurnInput[i] = 0;
        Request[i] = ShipAction.None;
        RequestTarget[i] = 0;
        DenseToSlot[i] = slot;
        _slotToDense[slot] = i;
        return new EntityHandle(slot, _slotGeneration[slot]);
    }

    /// <summary>The handle of the entity at dense index <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public EntityHandle HandleAt(int index)
    {
        var slot = DenseToSlot[index];
        return new EntityHandle(slot, _slotGeneration[slot]);
    }

    /// <summary>Resolves a handle to its current dense index; false when the entity is gone.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetIndex(EntityHandle handle, out int index)
    {
        var slot = handle.Slot;
        if ((uint)slot < (uint)_slotsUsed && _slotGeneration[slot] == handle.Generation && handle.Generation != 0)
        {
            index = _slotToDense[slot];
            return true;
        }
        index = -1;
        return false;
    }

    /// <summary>
    /// Removes the entity at <paramref name="index"/> by moving the last entity into its place (swap-remove). Its slot's
    /// generation moves on, so old handles stop resolving.
    /// </summary>
    public void RemoveAt(int index)
    {
        if ((uint)index >= (uint)Count)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(index));
        }
        var slot = DenseToSlot[index];
        var last = Count - 1;
        if (index != last)
        {
            PositionX[index] = PositionX[last];
            PositionY[index] = PositionY[last];
            VelocityX[index] = VelocityX[last];
            VelocityY[index] = VelocityY[last];
            Rotation[index] = Rotation[last];
            AngularVelocity[index] = AngularVelocity[last];
            Hull[index] = Hull[last];
            Kind[index] = Kind[last];
            Flags[index] = Flags[last];
            Owner[index] = Owner[last];
            Ref[index] = Ref[last];
            ShipClass[index] = ShipClass[last];
            InputSeq[index] = InputSeq[last];
            ThrustInput[index] = ThrustInput[last];
            TurnInput[index] = TurnInput[last];
            Request[index] = Request[last];
            RequestTarget[index] = RequestTarget[last];
            var movedSlot = DenseToSlot[last];
            DenseToSlot[index] = movedSlot;
            _slotToDense[movedSlot] = index;
        }
        Kind[last] = EntityKind.None;
        Count = last;
        _slotToDense[slot] = -1;
        // Skip generation 0 on wrap-around: it marks "never issued".
        var generation = _slotGeneration[slot] + 1;
        _slotGeneration[slot] = generation == 0 ? 1 : generation;
        _freeSlots[_freeCount++] = slot;
    }

    /// <summary>
    /// Copies entities <c>[start, end)</c> into the same places of <paramref name="destination"/> as
    /// <see cref="EntityState"/>s: one sequential pass over each column, no bounds checks.
    /// </summary>
    /// <param name="destination">The snapshot rows.</param>
    /// <param name="start">First entity.</param>
    /// <param name="end">One past the last entity.</param>
    /// <param name="streaming">
    /// Write the rows with non-temporal (streaming) stores, which skip reading each destination cache line before
    /// writing it: for snapshots too big to stay in cache until they are read (see <see cref="StreamingRows"/>).
    /// </param>
    public void CopyTo(EntityState[] destination, int start, int end, bool streaming = false)
    {
        if ((uint)start > (uint)end || end > Count || destination.Length < end)
        {
            ThrowHelper.ThrowArgument("range outside the entities or the destination", nameof(destination));
        }
        ref var dst = ref MemoryMarshal.GetArrayDataReference(destination);
        if (Avx2.IsSupported && Unsafe.SizeOf<EntityState>() == 80 && end - start >= 4)
        {
            if (streaming && Sse2.X64.IsSupported)
            {
                start = StreamRowsVector(destination, start, end);
            }
            else
            {
                start = CopyRowsVector(ref dst, start, end, ref Unsafe.NullRef<double>());
            }
        }
        ref var denseToSlot = ref MemoryMarshal.GetArrayDataReference(DenseToSlot);
        ref var generation = ref MemoryMarshal.GetArrayDataReference(_slotGeneration);
        ref var kind = ref MemoryMarshal.GetArrayDataReference(Kind);
        ref var flags = ref MemoryMarshal.GetArrayDataReference(Flags);
        ref var shipClass = ref MemoryMarshal.GetArrayDataReference(ShipClass);
        ref var owner = ref MemoryMarshal.GetArrayDataReference(Owner);
        ref var reference = ref MemoryMarshal.GetArrayDataReference(Ref);
        ref var inputSeq = ref MemoryMarshal.GetArrayDataReference(InputSeq);
        ref var px = ref MemoryMarshal.GetArrayDataReference(PositionX);
        ref var py = ref MemoryMarshal.GetArrayDataReference(PositionY);
        ref var vx = ref MemoryMarshal.GetArrayDataReference(VelocityX);
        ref var vy = ref MemoryMarshal.GetArrayDataReference(VelocityY);
        ref var rotation = ref MemoryMarshal.GetArrayDataReference(Rotation);
        ref var angular = ref MemoryMarshal.GetArrayDataReference(AngularVelocity);
        ref var hull = ref MemoryMarshal.GetArrayDataReference(Hull);
        for (var i = start; i < end; i++)
        {
            var slot = Unsafe.Add(ref denseToSlot, i);
            Unsafe.Add(ref dst, i) = new EntityState(
                new EntityHandle(slot, Unsafe.Add(ref generation, slot)),
                Unsafe.Add(ref kind, i),
                Unsafe.Add(ref flags, i),
                Unsafe.Add(ref shipClass, i),
                Unsafe.Add(ref owner, i),
                Unsafe.Add(ref reference, i),
                Unsafe.Add(ref inputSeq, i),
                Unsafe.Add(ref px, i),
                Unsafe.Add(ref py, i),
                Unsafe.Add(ref vx, i),
                Unsafe.Add(ref vy, i),
                Unsafe.Add(ref rotation, i),
                Unsafe.Add(ref angular, i),
                Unsafe.Add(ref hull, i));
        }
    }

    /// <summary>
    /// The rows of <see cref="CopyTo"/> four at a time: each column is read as one vector, the four rows are put
    /// together by 4x4 transposes (qwords for the first 64 bytes, floats for the last 16) and written with three wide
    /// stores per row instead of fourteen narrow ones. The bytes written are the same as the scalar loop's, plus zeros
    /// in the padding (which the scalar loop leaves as it was). Returns the first entity it did not copy.
    /// </summary>
    /// <summary>
    /// <see cref="CopyRowsVector"/> with streaming stores: every four rows are put together in a 320-byte buffer on the
    /// stack (in L1) and then written out with 16-byte non-temporal stores (8-byte ones for the two ends when the array
    /// is only 8-byte aligned), so that the destination lines are never read from memory. Ends with a store fence.
    /// </summary>
    private unsafe int StreamRowsVector(EntityState[] destination, int start, int end)
    {
        var staging = stackalloc double[4 * (int)RowDoubles];
        fixed (EntityState* rows = destination)
        {
            start = CopyRowsVector(ref rows[0], start, end, ref *staging);
        }
        Sse.StoreFence();
        return start;
    }

    /// <summary>Writes four staged rows (320 bytes) to <paramref name="destination"/> (8-byte aligned) with streaming stores.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void StreamFourRows(ref double staging, byte* destination)
    {
        ref var source = ref Unsafe.As<double, byte>(ref staging);
        if (((nuint)destination & 15) == 0)
        {
            for (nuint k = 0; k < 320; k += 16)
            {
                Sse2.StoreAlignedNonTemporal(destination + k, Vector128.LoadUnsafe(ref source, k));
            }
        }
        else
        {
            Sse2.X64.StoreNonTemporal((ulong*)destination, Unsafe.As<byte, ulong>(ref source));
            for (nuint k = 8; k < 312; k += 16)
            {
                Sse2.StoreAlignedNonTemporal(destination + k, Vector128.LoadUnsafe(ref source, k));
            }
            Sse2.X64.StoreNonTemporal((ulong*)(destination + 312), Unsafe.As<byte, ulong>(ref Unsafe.Add(ref source, 312)));
        }
    }

    private unsafe int CopyRowsVector(ref EntityState dst, int start, int end, ref double staging)
    {
        var stream = !Unsafe.IsNullRef(ref staging);
        ref var denseToSlot = ref MemoryMarshal.GetArrayDataReference(DenseToSlot);
        ref var generation = ref MemoryMarshal.GetArrayDataReference(_slotGeneration);
        ref var kind = ref Unsafe.As<EntityKind, byte>(ref MemoryMarshal.GetArrayDataReference(Kind));
        ref var flags = ref Unsafe.As<EntityFlags, byte>(ref MemoryMarshal.GetArrayDataReference(Flags));
        ref var shipClass = ref MemoryMarshal.GetArrayDataReference(ShipClass);
        ref var owner = ref MemoryMarshal.GetArrayDataReference(Owner);
        ref var reference = ref MemoryMarshal.GetArrayDataReference(Ref);
        ref var inputSeq = ref Unsafe.As<uint, int>(ref MemoryMarshal.GetArrayDataReference(InputSeq));
        ref var px = ref MemoryMarshal.GetArrayDataReference(PositionX);
        ref var py = ref MemoryMarshal.GetArrayDataReference(PositionY);
        ref var vx = ref MemoryMarshal.GetArrayDataReference(VelocityX);
        ref var vy = ref MemoryMarshal.GetArrayDataReference(VelocityY);
        ref var rotation = ref MemoryMarshal.GetArrayDataReference(Rotation);
        ref var angular = ref MemoryMarshal.GetArrayDataReference(AngularVelocity);
        ref var hull = ref MemoryMarshal.GetArrayDataReference(Hull);
        // Bytes 8..15 of row j: kind, flags, class, five zero bytes; from (kind x4, flags x4, class x4, 0 x4).
        var byteOrder = Vector256.Create(
            (byte)0, 4, 8, 0x80, 0x80, 0x80, 0x80, 0x80, 1, 5, 9, 0x80, 0x80, 0x80, 0x80, 0x80,
            2, 6, 10, 0x80, 0x80, 0x80, 0x80, 0x80, 3, 7, 11, 0x80, 0x80, 0x80, 0x80, 0x80);
        var i = start;
        for (; i + 4 <= end; i += 4)
        {
            var slots = Vector128.LoadUnsafe(ref denseToSlot, (nuint)i);
            var generations = Vector128.Create(
                Unsafe.Add(ref generation, slots.ToScalar()),
                Unsafe.Add(ref generation, slots.GetElement(1)),
                Unsafe.Add(ref generation, slots.GetElement(2)),
                Unsafe.Add(ref generation, slots.GetElement(3)));
            var handles = Vector256.Create(Sse2.UnpackLow(slots, generations), Sse2.UnpackHigh(slots, generations)).AsDouble();
            var small = Vector128.Create(
                Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref kind, i)),
                Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref flags, i)),
                Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref shipClass, i)),
                0u).AsByte();
            var kinds = Avx2.Shuffle(Vector256.Create(small, small), byteOrder).AsDouble();
            var owners = Vector256.LoadUnsafe(ref owner, (nuint)i).AsDouble();
            var refs = Vector128.LoadUnsafe(ref reference, (nuint)i);
            var seqs = Vector128.LoadUnsafe(ref inputSeq, (nuint)i);
            var refSeqs = Vector256.Create(Sse2.UnpackLow(refs, seqs), Sse2.UnpackHigh(refs, seqs)).AsDouble();

            ref var row = ref stream ? ref staging : ref Unsafe.As<EntityState, double>(ref Unsafe.Add(ref dst, i));
            StoreTransposed(handles, kinds, owners, refSeqs, ref row, 0);
            StoreTransposed(
                Vector256.LoadUnsafe(ref px, (nuint)i),
                Vector256.LoadUnsafe(ref py, (nuint)i),
                Vector256.LoadUnsafe(ref vx, (nuint)i),
                Vector256.LoadUnsafe(ref vy, (nuint)i),
                ref row,
                4);

            var rot = Vector128.LoadUnsafe(ref rotation, (nuint)i);
            var ang = Vector128.LoadUnsafe(ref angular, (nuint)i);
            var h = Vector128.LoadUnsafe(ref hull, (nuint)i);
            var t0 = Sse.UnpackLow(rot, ang);
            var t1 = Sse.UnpackHigh(rot, ang);
            var t2 = Sse.UnpackLow(h, Vector128<float>.Zero);
            var t3 = Sse.UnpackHigh(h, Vector128<float>.Zero);
            ref var tail = ref Unsafe.As<double, float>(ref Unsafe.Add(ref row, 8));
            Sse.MoveLowToHigh(t0, t2).StoreUnsafe(ref tail);
            Sse.MoveHighToLow(t2, t0).StoreUnsafe(ref tail, RowFloats);
            Sse.MoveLowToHigh(t1, t3).StoreUnsafe(ref tail, 2 * RowFloats);
            Sse.MoveHighToLow(t3, t1).StoreUnsafe(ref tail, 3 * RowFloats);
            if (stream)
            {
                // dst is pinned by the caller (StreamRowsVector).
                StreamFourRows(ref staging, (byte*)Unsafe.AsPointer(ref Unsafe.Add(ref dst, i)));
            }
        }
        return i;
    }

    private const nuint RowDoubles = 10;
    private const nuint RowFloats = 20;

    /// <summary>Writes lane j of (a, b, c, d) as four consecutive qwords at row j, qword <paramref name="at"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTransposed(Vector256<double> a, Vector256<double> b, Vector256<double> c, Vector256<double> d, ref double row, int at)
    {
        var t0 = Avx.UnpackLow(a, b);
        var t1 = Avx.UnpackHigh(a, b);
        var t2 = Avx.UnpackLow(c, d);
        var t3 = Avx.UnpackHigh(c, d);
        ref var r = ref Unsafe.Add(ref row, at);
        Avx.Permute2x128(t0, t2, 0x20).StoreUnsafe(ref r);
        Avx.Permute2x128(t1, t3, 0x20).StoreUnsafe(ref r, RowDoubles);
        Avx.Permute2x128(t0, t2, 0x31).StoreUnsafe(ref r, 2 * RowDoubles);
        Avx.Permute2x128(t1, t3, 0x31).StoreUnsafe(ref r, 3 * RowDoubles);
    }

    /// <summary>
    /// From this many entities on, the step writes the snapshot with streaming stores: 262,144 rows are 20 MB, more than
    /// any core's L2 and most of a shared L3, so the rows would be evicted before the server reads them anyway, and
    /// reading each destination line before overwriting it would add 80 bytes of memory traffic per entity.
    /// </summary>
    internal const int StreamingRows = 1 << 18;

    /// <summary>Makes room for at least <paramref name="capacity"/> entities (allocates; never called per tick).</summary>
    public void EnsureCapacity(int capacity)
    {
        if (capacity > Capacity)
        {
            Grow(Math.Max(capacity, Capacity * 2));
        }
    }

    private void Grow(int capacity)
    {
        Array.Resize(ref PositionX, capacity);
        Array.Resize(ref PositionY, capacity);
        Array.Resize(ref VelocityX, capacity);
        Array.Resize(ref VelocityY, capacity);
        Array.Resize(ref Rotation, capacity);
        Array.Resize(ref AngularVelocity, capacity);
        Array.Resize(ref Hull, capacity);
        Array.Resize(ref Kind, capacity);
        Array.Resize(ref Flags, capacity);
        Array.Resize(ref Owner, capacity);
        Array.Resize(ref Ref, capacity);
        Array.Resize(ref ShipClass, capacity);
        Array.Resize(ref InputSeq, capacity);
        Array.Resize(ref ThrustInput, capacity);
        Array.Resize(ref TurnInput, capacity);
        Array.Resize(ref Request, capacity);
        Array.Resize(ref RequestTarget, capacity);
        Array.Resize(ref DenseToSlot, capacity);
        Array.Resize(ref _slotToDense, capacity);
        Array.Resize(ref _slotGeneration, capacity);
        Array.Resize(ref _freeSlots, capacity);
    }
}
