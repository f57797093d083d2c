using System.Runtime.InteropServices;
using System.Text;
using LLama.Native;

namespace Castor.Engine.Grammars;

/// <summary>
/// Asks llama.cpp whether it accepts a grammar before it joins a sampler chain. llama.cpp answers a grammar it
/// refuses (a syntax error, left recursion) with a null sampler, which LLamaSharp would add to the chain unchecked
/// and the process would crash on at the first token; a client-supplied schema must never be able to do that.
/// </summary>
public static unsafe class GrammarValidator
{
    private static readonly Lazy<Api> Native = new(Load);

    /// <summary>Throws <see cref="InvalidGrammarException"/> when llama.cpp would not build a sampler from the grammar.</summary>
    public static void Validate(SafeLlamaModelHandle model, string gbnf, string root)
    {
        var api = Native.Value;
        var vocab = api.GetVocab(model.DangerousGetHandle());
        var grammarBytes = Encoding.UTF8.GetBytes(gbnf + "\0");
        var rootBytes = Encoding.UTF8.GetBytes(root + "\0");
        IntPtr sampler;
        fixed (byte* g = grammarBytes)
        fixed (byte* r = rootBytes)
            sampler = api.InitGrammar(vocab, g, r);
        if (sampler == IntPtr.Zero)
            throw new InvalidGrammarException("llama.cpp refused the grammar (a syntax error, or a rule that can recurse without consuming input).");
        api.Free(sampler);
    }

    /// <summary>
    /// Adds a lazy grammar to <paramref name="chain"/>. LLamaSharp 0.30's own binding of
    /// <c>llama_sampler_init_grammar_lazy_patterns</c> omits the pattern count, which shifts every later argument,
    /// so this calls llama.cpp directly.
    /// </summary>
    public static void AddLazy(SafeLLamaSamplerChainHandle chain, SafeLlamaModelHandle model, string gbnf, string root, IReadOnlyList<string> patterns)
    {
        var api = Native.Value;
        var vocab = api.GetVocab(model.DangerousGetHandle());
        var grammarBytes = Encoding.UTF8.GetBytes(gbnf + "\0");
        var rootBytes = Encoding.UTF8.GetBytes(root + "\0");
        var patternHandles = patterns.Select(p => GCHandle.Alloc(Encoding.UTF8.GetBytes(p + "\0"), GCHandleType.Pinned)).ToArray();
        try
        {
            var pointers = patternHandles.Select(h => h.AddrOfPinnedObject()).ToArray();
            var noToken = 0;
            IntPtr sampler;
            fixed (byte* g = grammarBytes)
            fixed (byte* r = rootBytes)
            fixed (IntPtr* p = pointers)
                sampler = api.InitLazy(vocab, g, r, (byte**)p, (nuint)pointers.Length, &noToken, 0);
            if (sampler == IntPtr.Zero)
                throw new InvalidGrammarException("llama.cpp refused the grammar (a syntax error, or a rule that can recurse without consuming input).");
            api.ChainAdd(chain.DangerousGetHandle(), sampler);
        }
        finally
        {
            foreach (var h in patternHandles) h.Free();
        }
    }

    private static Api Load()
    {
        // The DllImport resolver LLamaSharp registered for its own assembly finds the backend it selected.
        var library = NativeLibrary.Load("llama", typeof(NativeApi).Assembly, null);
        return new Api(
            (delegate* unmanaged[Cdecl]<IntPtr, IntPtr>)NativeLibrary.GetExport(library, "llama_model_get_vocab"),
            (delegate* unmanaged[Cdecl]<IntPtr, byte*, byte*, IntPtr>)NativeLibrary.GetExport(library, "llama_sampler_init_grammar"),
            (delegate* unmanaged[Cdecl]<IntPtr, void>)NativeLibrary.GetExport(library, "llama_sampler_free"),
            (delegate* unmanaged[Cdecl]<IntPtr, byte*, byte*, byte**, nuint, int*, nuint, IntPtr>)NativeLibrary.GetExport(library, "llama_sampler_init_grammar_lazy_patterns"),
            (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void>)NativeLibrary.GetExport(library, "llama_sampler_chain_add"));
    }

    private sealed class Api(
        delegate* unmanaged[Cdecl]<IntPtr, IntPtr> getVocab,
        delegate* unmanaged[Cdecl]<IntPtr, byte*, byte*, IntPtr> initGrammar,
        delegate* unmanaged[Cdecl]<IntPtr, void> free,
        delegate* unmanaged[Cdecl]<IntPtr, byte*, byte*, byte**, nuint, int*, nuint, IntPtr> initLazy,
        delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void> chainAdd)
    {
        public IntPtr InitLazy(IntPtr vocab, byte* grammar, byte* root, byte** patterns, nuint patternCount, int* tokens, nuint tokenCount) =>
            initLazy(vocab, grammar, root, patterns, patternCount, tokens, tokenCount);
        public void ChainAdd(IntPtr chain, IntPtr sampler) => chainAdd(chain, sampler);
        public IntPtr GetVocab(IntPtr model) => getVocab(model);
        public IntPtr InitGrammar(IntPtr vocab, byte* grammar, byte* root) => initGrammar(vocab, grammar, root);
        public void Free(IntPtr sampler) => free(sampler);
    }
}

public sealed class InvalidGrammarException(string message) : Exception(message);
