namespace Bot.Features.JoinGate;

/// <summary>
/// The check a join requester answers: a small sum with four answers in random order, one of them right. Its
/// job is to stop bulk join requests by accounts nobody reads the messages of, not to resist a determined human.
/// </summary>
public sealed record JoinChallenge(int A, int B, IReadOnlyList<int> Options)
{
    public const int OptionCount = 4;

    public int Answer => A + B;

    public static JoinChallenge Create(Random random)
    {
        var a = random.Next(2, 10);
        var b = random.Next(2, 10);
        var answer = a + b;
        var options = new HashSet<int> { answer };
        while (options.Count < OptionCount)
        {
            // Near misses, so that the right answer does not stand out by size.
            var candidate = answer + random.Next(-5, 6);
            if (candidate > 0)
            {
                options.Add(candidate);
            }
        }

        var shuffled = options.ToArray();
        random.Shuffle(shuffled);
        return new JoinChallenge(a, b, shuffled);
    }
}
