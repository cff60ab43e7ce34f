using Sol.Zones.Simulation;

namespace Sol.Bench.Zones;

/// <summary>
/// The same systems as <see cref="Zone"/>'s step (control with caps, gravity from the stars, integrate, star damage,
/// snapshot copy), written the plain way: a <see cref="List{T}"/> of <see cref="ObjectShip"/> and one method per
/// system, each a loop over the list.
/// </summary>
internal sealed class ObjectZone
{
    private readonly List<ObjectShip> _ships = [];
    private readonly double _dt;
    private readonly double[] _starX = [0];
    private readonly double[] _starY = [0];
    private readonly double[] _starMass = [1e6];
    private readonly double[] _starMin2 = [50 * 50];
    private readonly double[] _starDamage2 = [300 * 300];
    private readonly float _damagePerSecond = 50f;
    private EntityState[] _snapshot = [];

    public ObjectZone(int tickRate)
    {
        _dt = 1.0 / tickRate;
    }

    public List<ObjectShip> Ships => _ships;

    public void Step()
    {
        Control();
        Gravity();
        Integrate();
        Damage();
        Snapshot();
    }

    private void Control()
    {
        foreach (var ship in _ships)
        {
            ship.AngularVelocity = ship.TurnInput * ship.Class.TurnRate;
            // The same polynomial sine/cosine as the zone step, so both do the same arithmetic.
            var (sin, cos) = Trig.SinCos(ship.Rotation);
            var a = ship.ThrustInput * ship.Class.Thrust * _dt;
            ship.VelocityX += cos * a;
            ship.VelocityY += sin * a;
            var speed2 = (ship.VelocityX * ship.VelocityX) + (ship.VelocityY * ship.VelocityY);
            var max = ship.Class.MaxSpeed;
            if (speed2 > max * max)
            {
                var k = max / Math.Sqrt(speed2);
                ship.VelocityX *= k;
                ship.VelocityY *= k;
            }
        }
    }

    private void Gravity()
    {
        foreach (var ship in _ships)
        {
            for (var k = 0; k < _starX.Length; k++)
            {
                var dx = _starX[k] - ship.X;
                var dy = _starY[k] - ship.Y;
                var r2 = Math.Max((dx * dx) + (dy * dy), _starMin2[k]);
                var inv = 1.0 / Math.Sqrt(r2);
                var a = _starMass[k] * (inv * inv * inv);
                ship.VelocityX += dx * a * _dt;
                ship.VelocityY += dy * a * _dt;
            }
        }
    }

    private void Integrate()
    {
        foreach (var ship in _ships)
        {
            ship.X += ship.VelocityX * _dt;
            ship.Y += ship.VelocityY * _dt;
            var r = ship.Rotation + (ship.AngularVelocity * (float)_dt);
            if (r > MathF.PI)
            {
                r -= 2 * MathF.PI;
            }
            else if (r <= -MathF.PI)
            {
                r += 2 * MathF.PI;
            }
            ship.Rotation = r;
        }
    }

    private void Damage()
    {
        var damage = (float)(_damagePerSecond * _dt);
        foreach (var ship in _ships)
        {
            for (var k = 0; k < _starX.Length; k++)
            {
                var dx = _starX[k] - ship.X;
                var dy = _starY[k] - ship.Y;
                if ((dx * dx) + (dy * dy) < _starDamage2[k])
                {
                    ship.Hull -= damage;
                }
            }
            if (ship.Hull <= 0)
            {
                ship.Hull = ship.Class.Hull;
                ship.X = 8_000;
                ship.Y = 0;
                ship.VelocityX = 0;
                ship.VelocityY = 0;
            }
        }
    }

    private void Snapshot()
    {
        if (_snapshot.Length < _ships.Count)
        {
            _snapshot = new EntityState[_ships.Count];
        }
        for (var i = 0; i < _ships.Count; i++)
        {
            var s = _ships[i];
            _snapshot[i] = new EntityState(s.Handle, s.Kind, s.Flags, s.ShipClass, s.Owner, s.Ref, s.InputSeq, s.X, s.Y, s.VelocityX, s.VelocityY, s.Rotation, s.AngularVelocity, s.Hull);
        }
    }
}
