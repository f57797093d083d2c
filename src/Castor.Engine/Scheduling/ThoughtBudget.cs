namespace Castor.Engine.Scheduling;

/// <summary>Counts a thinking model's thought tokens and forces the end marker once the budget is spent.</summary>
internal static class ThoughtBudget
{
    public static void Track(Sequence seq, int token)
    {
        if (seq.Job.Request.Thinking is not { } thinking) return;
        seq.Recent.Add(token);
        switch (seq.Phase)
        {
            case ThoughtPhase.Before when seq.Recent.EndsWith(thinking.StartTokens):
                seq.Phase = ThoughtPhase.Thinking;
                seq.ThoughtTokens = seq.OutputTokens;
                break;
            case ThoughtPhase.Before when seq.OutputTokens > thinking.StartTokens.Count + 2:
                seq.Phase = ThoughtPhase.Answer;
                return;
            case ThoughtPhase.Thinking:
                seq.ThoughtTokens++;
                if (seq.Recent.EndsWith(thinking.EndTokens))
                {
                    seq.Phase = ThoughtPhase.Answer;
                    seq.Forced.Clear();
                    return;
                }
                break;
            default:
                return;
        }
        if (seq.Phase == ThoughtPhase.Thinking && thinking.Budget >= 0 && seq.ThoughtTokens >= thinking.Budget && seq.Forced.Count == 0)
            foreach (var t in thinking.EndTokens) seq.Forced.Enqueue(t);
    }
}
