using Sol.Zones.Simulation;
using Sol.Zones.State;

namespace Sol.Zones.Tests;

public class ZoneStateTests
{
    [Fact]
    public void SwapRemoveKeepsEveryOtherHandlePointingAtItsOwnEntity()
    {
        var state = new ZoneState(4);
        var handles = new EntityHandle[10];
        for (var i = 0; i < handles.Length; i++)
        {
            handles[i] = state.Add(EntityKind.Ship, EntityFlags.Dynamic, 100 + i, 0, i, -i);
        }
        Assert.True(state.TryGetIndex(handles[2], out var two));
        state.RemoveAt(two);
        Assert.True(state.TryGetIndex(handles[0], out var zero));
        state.RemoveAt(zero);

        Assert.Equal(8, state.Count);
        for (var i = 0; i < handles.Length; i++)
        {
            if (i is 0 or 2)
            {
                Assert.False(state.TryGetIndex(handles[i], out _));
                continue;
            }
            Assert.True(state.TryGetIndex(handles[i], out var index));
            Assert.Equal(100 + i, state.Owner[index]);
            Assert.Equal(i, state.PositionX[index]);
            Assert.Equal(-i, state.PositionY[index]);
        }
    }

    [Fact]
    public void AReusedSlotGetsANewGenerationSoTheOldHandleStaysDead()
    {
        var state = new ZoneState(4);
        var first = state.Add(EntityKind.Ship, EntityFlags.Dynamic, 1, 0, 0, 0);
        state.TryGetIndex(first, out var index);
        state.RemoveAt(index);
        var second = state.Add(EntityKind.Ship, EntityFlags.Dynamic, 2, 0, 0, 0);

        Assert.Equal(first.Slot, second.Slot);
        Assert.NotEqual(first.Generation, second.Generation);
        Assert.False(state.TryGetIndex(first, out _));
        Assert.True(state.TryGetIndex(second, out var i));
        Assert.Equal(2, state.Owner[i]);
    }

    [Fact]
    public void DefaultHandleNeverResolves()
    {
        var state = new ZoneState(4);
        state.Add(EntityKind.Ship, EntityFlags.Dynamic, 1, 0, 0, 0);
        Assert.False(state.TryGetIndex(default, out _));
        Assert.False(default(EntityHandle).IsSome);
    }

    [Fact]
    public void GrowingKeepsEveryColumnAndHandle()
    {
        var state = new ZoneState(4);
        var handles = new List<EntityHandle>();
        for (var i = 0; i < 1000; i++)
        {
            handles.Add(state.Add(EntityKind.Npc, EntityFlags.Dynamic, i, i, i * 2.0, i * 3.0));
        }
        Assert.True(state.Capacity >= 1000);
        for (var i = 0; i < handles.Count; i++)
        {
            Assert.True(state.TryGetIndex(handles[i], out var index));
            Assert.Equal(i, state.Ref[index]);
            Assert.Equal(i * 3.0, state.PositionY[index]);
        }
    }

    [Fact]
    public void RemovingEverythingThenAddingAgainReusesSlotsWithoutGrowing()
    {
        var state = new ZoneState(8);
        for (var round = 0; round < 5; round++)
        {
            for (var i = 0; i < 8; i++)
            {
                state.Add(EntityKind.Ship, EntityFlags.Dynamic, i, 0, 0, 0);
            }
            while (state.Count > 0)
            {
                state.RemoveAt(state.Count / 2);
            }
        }
        Assert.Equal(8, state.Capacity);
    }

    [Fact]
    public void RemovingOutsideTheDenseRangeThrows()
    {
        var state = new ZoneState(4);
        Assert.Throws<ArgumentOutOfRangeException>(() => state.RemoveAt(0));
    }
    [Theory]
    [InlineData(0, 37, false)]
    [InlineData(3, 30, false)]
    [InlineData(5, 6, false)]
    [InlineData(8, 8, false)]
    [InlineData(0, 37, true)]
    [InlineData(3, 30, true)]
    [InlineData(5, 6, true)]
    public void CopyToWritesEveryRowExactlyAsTheColumnsHoldIt(int start, int end, bool streaming)
    {
        var state = new ZoneState(8);
        var kinds = Enum.GetValues<EntityKind>();
        for (var i = 0; i < 48; i++)
        {
            state.Add(kinds[i % kinds.Length], (EntityFlags)(i % 16), (long)i << 40 | (uint)i, -i, i * 1.5, i * -2.5);
        }
        // Reused slots get new generations and the dense order no longer follows the slots.
        for (var i = 0; i < 11; i++)
        {
            state.RemoveAt((i * 7) % state.Count);
        }
        while (state.Count < 37)
        {
            state.Add(EntityKind.Npc, EntityFlags.Dynamic, -state.Count, state.Count, 1, 2);
        }
        for (var i = 0; i < state.Count; i++)
        {
            state.ShipClass[i] = (byte)(200 + i);
            state.InputSeq[i] = uint.MaxValue - (uint)i;
            state.VelocityX[i] = Math.PI * i;
            state.VelocityY[i] = -Math.E * i;
            state.Rotation[i] = 0.25f * i;
            state.AngularVelocity[i] = -0.5f * i;
            state.Hull[i] = 100f - i;
        }
        var rows = new EntityState[state.Capacity];
        state.CopyTo(rows, start, end, streaming);

        for (var i = 0; i < rows.Length; i++)
        {
            if (i < start || i >= end)
            {
                Assert.Equal(default, rows[i]);
                continue;
            }
            var expected = new EntityState(
                state.HandleAt(i), state.Kind[i], state.Flags[i], state.ShipClass[i], state.Owner[i], state.Ref[i], state.InputSeq[i],
                state.PositionX[i], state.PositionY[i], state.VelocityX[i], state.VelocityY[i],
                state.Rotation[i], state.AngularVelocity[i], state.Hull[i]);
            Assert.Equal(expected, rows[i]);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    public unsafe void StreamingFourRowsWritesAll320BytesAtEitherAlignment(int offset)
    {
        var staging = new double[40];
        for (var k = 0; k < staging.Length; k++)
        {
            staging[k] = k + 0.5;
        }
        var buffer = (byte*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(400, 64);
        try
        {
            new Span<byte>(buffer, 400).Fill(0xAB);
            ZoneState.StreamFourRows(ref staging[0], buffer + offset);
            var written = new Span<double>(buffer + offset, 40).ToArray();
            Assert.Equal(staging, written);
            Assert.True(new Span<byte>(buffer, offset).IndexOfAnyExcept((byte)0xAB) < 0);
            Assert.True(new Span<byte>(buffer + offset + 320, 400 - offset - 320).IndexOfAnyExcept((byte)0xAB) < 0);
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.AlignedFree(buffer);
        }
    }
}
