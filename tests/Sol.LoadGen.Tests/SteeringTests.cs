namespace Sol.LoadGen.Tests;

/// <summary>The bots' steering, flown with the ship rules of the simulation's control step (thrust along the heading,
/// speed capped, turn at the turn rate) for the starting ship type (scout: 300 u/s², 420 u/s, 3.4 rad/s).</summary>
public sealed class SteeringTests
{
    private const float Thrust = 300, MaxSpeed = 420, TurnRate = 3.4f, Dt = 0.05f;

    [Theory]
    [InlineData(0f, 400f, 1500f, 0f)]    // passing the target sideways at full speed
    [InlineData(-400f, 0f, 1500f, 0f)]   // flying away from it
    [InlineData(0f, 0f, -2000f, 2500f)]  // at rest, target behind
    [InlineData(300f, 280f, 120f, 90f)]  // fast and already close
    public void ABotReachesItsTargetWhateverItsStartingVelocity(float vx, float vy, float tx, float ty)
    {
        float x = 0, y = 0, rotation = MathF.Atan2(vy, vx);
        var reachedAfter = -1.0;
        for (var tick = 0; tick < 20 * 60; tick++)
        {
            float dx = tx - x, dy = ty - y;
            var distance = MathF.Sqrt((dx * dx) + (dy * dy));
            if (distance < 60)
            {
                reachedAfter = tick * Dt;
                break;
            }
            var (thrust, turn) = Bot.Steer(rotation, vx, vy, dx, dy, distance);
            vx += MathF.Cos(rotation) * thrust * Thrust * Dt;
            vy += MathF.Sin(rotation) * thrust * Thrust * Dt;
            var speed = MathF.Sqrt((vx * vx) + (vy * vy));
            if (speed > MaxSpeed)
            {
                vx *= MaxSpeed / speed;
                vy *= MaxSpeed / speed;
            }
            x += vx * Dt;
            y += vy * Dt;
            rotation += turn * TurnRate * Dt;
        }
        Assert.InRange(reachedAfter, 0, 20);
    }
}
