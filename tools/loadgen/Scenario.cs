namespace Sol.LoadGen;

/// <summary>What a bot does once it plays.</summary>
public enum Scenario
{
    /// <summary>Connects, sends neutral inputs at the input rate, reads everything.</summary>
    Idle,

    /// <summary>Flies around: random thrust and turns that change every second or two.</summary>
    Wander,

    /// <summary>Flies to gates and jumps, lands on planets and takes off again.</summary>
    Travel,

    /// <summary>A blend of the others by weight (<c>--mix</c>).</summary>
    Mixed,
}
