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
}
