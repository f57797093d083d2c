namespace Castor.Engine.Grammars;

/// <summary>
/// What one schema may cost. A schema arrives from any caller and is compiled on the request's thread; its grammar
/// then runs on the scheduler thread that every project shares. Each limit stops a way a small schema can cost
/// without bound: recursion (a stack overflow ends the process, it cannot be caught), inlined <c>allOf</c> fan-out
/// (exponential work), and ambiguous alternatives (llama.cpp keeps one parse stack per live alternative and multiplies
/// them at every nested level). A schema over a limit is refused with <see cref="UnsupportedSchemaException"/> (a 400
/// that names the limit and the place in the schema), before any grammar reaches llama.cpp.
/// </summary>
public static class SchemaLimits
{
    /// <summary>
    /// The deepest nesting compiled: every schema inside another (properties, items, anyOf entries) and every
    /// <c>$ref</c> or <c>allOf</c> followed counts one level. Request bodies nest at most 64 JSON levels (about 30
    /// schema levels), so only reference chains come near it.
    /// </summary>
    public const int MaxDepth = 64;

    /// <summary>
    /// The most work one compilation may do, in schema visits plus JSON nodes copied while merging <c>allOf</c>
    /// entries: about 0.1 s of CPU. Every (sub)schema a request's schemas hold counts, and an <c>allOf</c> that inlines
    /// the same definition twice counts it twice, which is what bounds fan-out.
    /// </summary>
    public const int MaxExpansion = 50_000;

    /// <summary>The most characters a compiled grammar may have (llama.cpp parses and keeps it for every sequence using it).</summary>
    public const int MaxGrammarChars = 2_000_000;

    /// <summary>The most rules a compiled grammar may have.</summary>
    public const int MaxGrammarRules = 50_000;

    /// <summary>
    /// The most parse paths one position of the output may keep alive: alternatives that can begin with the same
    /// text each keep a llama.cpp grammar stack until the text tells them apart, and alternatives nested inside such
    /// alternatives multiply (8 levels of 4 look-alike <c>anyOf</c> entries are 4^8 = 65,536 stacks, checked against
    /// every candidate token at every step). Alternatives that differ in their first character, or in the first
    /// property name (or its <c>const</c>/<c>enum</c> value) of an object, count apart.
    /// </summary>
    /// <remarks>
    /// Measured with a bare llama.cpp grammar sampler on the 512-token test vocabulary: 16 paths cost about 0.07 ms a
    /// token, 64 about 3 ms, 1,024 about 11 ms; the work grows with the vocabulary too (real models have 30 to 250 times
    /// more tokens), so the bound is kept low.
    /// </remarks>
    public const int MaxParsePaths = 16;

    /// <summary>
    /// The largest <c>minLength</c>/<c>maxLength</c>/<c>minItems</c>/<c>maxItems</c> enforced. llama.cpp unrolls
    /// <c>x{m,n}</c> into one rule per repetition and refuses a grammar whose repetition reaches 2,000 rules
    /// (<c>MAX_REPETITION_THRESHOLD</c> in llama-grammar.cpp).
    /// </summary>
    public const int MaxRepetition = 1_999;
}
