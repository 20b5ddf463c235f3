using System.Globalization;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

// Reads the size statistics file that ILC writes beside a Native AOT binary (IlcGenerateMstatFile=true: an
// ECMA-335 assembly whose global methods "Types", "Methods" and, in newer compilers, "Blobs" list every compiled type
// and method by metadata token with its size in the binary) and prints what each assembly and each namespace
// costs: type structures (method tables, dictionaries) plus method bodies (code, relocations, unwind data).
// Frozen data, the runtime's own native code and metadata for reflection are not attributed to a type; the table's
// total is therefore less than the file's size, and the remainder is printed as such.
//   dotnet run --project tests/Load/Size -- <Bot.mstat> [--namespaces N (rows per table, 25)] [--binary <Bot>] [--markdown]
//     [--types <namespace prefix> (also the largest outermost types in the namespaces that start so)]
var arguments = args.ToList();
if (arguments.Count == 0 || !File.Exists(arguments[0]))
{
    Console.Error.WriteLine("usage: Size <file.mstat> [--namespaces N] [--binary <native binary>] [--markdown] [--types <namespace prefix>]");
    return 2;
}

var top = Option("--namespaces") is { } n ? int.Parse(n, CultureInfo.InvariantCulture) : 25;
var binary = Option("--binary");
var markdown = arguments.Contains("--markdown");
var typesOf = Option("--types");

using var stream = File.OpenRead(arguments[0]);
using var pe = new PEReader(stream);
var metadata = pe.GetMetadataReader();
var formatVersion = metadata.GetAssemblyDefinition().Version.Major;
var byAssembly = new Dictionary<string, long>();
var byNamespace = new Dictionary<(string Assembly, string Namespace), long>();
var byType = new Dictionary<(string Namespace, string Type), long>();
long types = 0, methods = 0, blobs = 0;
var blobSizes = new Dictionary<string, long>();

var typesBody = GlobalMethod("Types") ?? throw new InvalidDataException("no Types method: not an mstat file");
var reader = typesBody.GetILReader();
while (reader.RemainingBytes > 0)
{
    var token = ReadToken(ref reader);
    var size = ReadInt(ref reader);
    if (formatVersion >= 2)
    {
        ReadInt(ref reader);
    }

    types += size;
    Attribute(OwnerOfType(token), size);
}

var methodsBody = GlobalMethod("Methods") ?? throw new InvalidDataException("no Methods method: not an mstat file");
reader = methodsBody.GetILReader();
while (reader.RemainingBytes > 0)
{
    var token = ReadToken(ref reader);
    var size = ReadInt(ref reader) + ReadInt(ref reader) + ReadInt(ref reader);
    if (formatVersion >= 2)
    {
        ReadInt(ref reader);
    }

    methods += size;
    Attribute(OwnerOfMethod(token), size);
}

if (GlobalMethod("Blobs") is { } blobsBody)
{
    reader = blobsBody.GetILReader();
    while (reader.RemainingBytes > 0)
    {
        var name = ReadString(ref reader);
        var size = ReadInt(ref reader);
        blobs += size;
        blobSizes[name] = blobSizes.GetValueOrDefault(name) + size;
    }
}

var total = types + methods;
var file = binary is not null ? new FileInfo(binary).Length : 0;
var assemblies = byAssembly.OrderByDescending(e => e.Value).Select(e => (e.Key, e.Value)).ToList();
Print("assembly", assemblies.Take(top).Append(($"the other {Math.Max(0, assemblies.Count - top)} assemblies", assemblies.Skip(top).Sum(e => e.Value))));
Console.WriteLine();
Print("namespace (assembly)", byNamespace.OrderByDescending(e => e.Value).Take(top)
    .Select(e => ($"{(e.Key.Namespace.Length == 0 ? "(global)" : e.Key.Namespace)} ({e.Key.Assembly})", e.Value)));
if (typesOf is not null)
{
    Console.WriteLine();
    Print($"type in {typesOf}*", byType.OrderByDescending(e => e.Value).Take(top).Select(e => ($"{e.Key.Namespace}.{e.Key.Type}", e.Value)));
}

if (blobSizes.Count > 0)
{
    Console.WriteLine();
    Print("blob", blobSizes.OrderByDescending(e => e.Value).Take(12).Select(e => (e.Key, e.Value)));
}

Console.WriteLine();
var summary = FormattableString.Invariant($"types {Mib(types)}, methods {Mib(methods)}, attributed {Mib(total)}");
if (blobs > 0)
{
    summary += FormattableString.Invariant($", blobs {Mib(blobs)}");
}

if (file > 0)
{
    summary += FormattableString.Invariant($"; binary {Mib(file)} (the blobs are the binary's sections and hold the types' structures too)");
}

Console.WriteLine(summary);
return 0;

void Print(string what, IEnumerable<(string Name, long Size)> rows)
{
    if (markdown)
    {
        Console.WriteLine($"| {what} | size | share of attributed |");
        Console.WriteLine("| --- | ---: | ---: |");
        foreach (var (name, size) in rows)
        {
            Console.WriteLine(FormattableString.Invariant($"| {name} | {Mib(size)} | {100.0 * size / total:0.0} % |"));
        }
    }
    else
    {
        Console.WriteLine(FormattableString.Invariant($"{what,-70} {"size",12} {"share",7}"));
        foreach (var (name, size) in rows)
        {
            Console.WriteLine(FormattableString.Invariant($"{name,-70} {Mib(size),12} {100.0 * size / total,6:0.0}%"));
        }
    }
}

static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.00} MiB");

string? Option(string name)
{
    var index = arguments.IndexOf(name);
    return index >= 0 && index + 1 < arguments.Count ? arguments[index + 1] : null;
}

void Attribute((string Assembly, string Namespace, string Type) owner, long size)
{
    byAssembly[owner.Assembly] = byAssembly.GetValueOrDefault(owner.Assembly) + size;
    byNamespace[(owner.Assembly, owner.Namespace)] = byNamespace.GetValueOrDefault((owner.Assembly, owner.Namespace)) + size;
    if (typesOf is not null && owner.Namespace.StartsWith(typesOf, StringComparison.Ordinal))
    {
        byType[(owner.Namespace, owner.Type)] = byType.GetValueOrDefault((owner.Namespace, owner.Type)) + size;
    }
}

MethodBodyBlock? GlobalMethod(string name)
{
    var global = metadata.GetTypeDefinition(MetadataTokens.TypeDefinitionHandle(1));
    foreach (var handle in global.GetMethods())
    {
        var method = metadata.GetMethodDefinition(handle);
        if (metadata.StringComparer.Equals(method.Name, name))
        {
            return pe.GetMethodBody(method.RelativeVirtualAddress);
        }
    }

    return null;
}

// A method belongs to its declaring type (a generic method's instantiation to the method it instantiates).
(string, string, string) OwnerOfMethod(EntityHandle token)
{
    if (token.Kind == HandleKind.MethodSpecification)
    {
        var spec = metadata.GetMethodSpecification((MethodSpecificationHandle)token);
        var instantiation = metadata.GetBlobReader(spec.Signature);
        instantiation.ReadSignatureHeader();
        var owners = new List<(string, string, string)>();
        for (var count = instantiation.ReadCompressedInteger(); count > 0; count--)
        {
            owners.Add(OwnerOfSignature(ref instantiation));
        }

        var definition = OwnerOfMethod(spec.Method);
        return ByOrigin(definition, owners);
    }

    return token.Kind == HandleKind.MemberReference
        ? OwnerOfType(metadata.GetMemberReference((MemberReferenceHandle)token).Parent)
        : ("?", "?", "?");
}

// A type belongs to the assembly and namespace of its outermost declaring type; an instantiation, an array or a
// pointer to the type it is made of (List<Foo> is counted under System.Collections.Generic, as sizoscope does).
(string, string, string) OwnerOfType(EntityHandle token)
{
    switch (token.Kind)
    {
        case HandleKind.TypeReference:
            var type = metadata.GetTypeReference((TypeReferenceHandle)token);
            while (type.ResolutionScope.Kind == HandleKind.TypeReference)
            {
                type = metadata.GetTypeReference((TypeReferenceHandle)type.ResolutionScope);
            }

            var assembly = type.ResolutionScope.Kind == HandleKind.AssemblyReference
                ? metadata.GetString(metadata.GetAssemblyReference((AssemblyReferenceHandle)type.ResolutionScope).Name)
                : "?";
            return (assembly, metadata.GetString(type.Namespace), metadata.GetString(type.Name));
        case HandleKind.TypeSpecification:
            var signature = metadata.GetBlobReader(metadata.GetTypeSpecification((TypeSpecificationHandle)token).Signature);
            return OwnerOfSignature(ref signature);
        default:
            return ("?", "?", "?");
    }
}

(string, string, string) OwnerOfSignature(ref BlobReader signature)
{
    var code = signature.ReadSignatureTypeCode();
    switch (code)
    {
        case SignatureTypeCode.GenericTypeInstance:
            var definition = OwnerOfSignature(ref signature);
            var arguments = new List<(string, string, string)>();
            for (var count = signature.ReadCompressedInteger(); count > 0; count--)
            {
                arguments.Add(OwnerOfSignature(ref signature));
            }

            return ByOrigin(definition, arguments);
        case SignatureTypeCode.SZArray:
        case SignatureTypeCode.Pointer:
        case SignatureTypeCode.ByReference:
        case SignatureTypeCode.Array:
            return OwnerOfSignature(ref signature);
        case SignatureTypeCode.TypeHandle:
            return OwnerOfType(signature.ReadTypeHandle());
        case SignatureTypeCode.FunctionPointer:
            return ("System.Private.CoreLib", "System (function pointers)", "(function pointer)");
        default:
            return ("System.Private.CoreLib", "System", code.ToString());
    }
}

// An instantiation of the framework's generics (List<T>, a JSON converter of T, a Task<T>) is counted under the
// first type argument from outside the framework (List<k8s.Models.V1Pod> under k8s.Models): that is the code
// that made the compiler generate it, and what removing that code would save. Sizoscope counts it under the
// generic definition instead.
(string, string, string) ByOrigin((string Assembly, string Namespace, string Type) definition, List<(string Assembly, string Namespace, string Type)> arguments)
{
    if (!IsFramework(definition.Assembly))
    {
        return definition;
    }

    foreach (var argument in arguments)
    {
        if (!IsFramework(argument.Assembly))
        {
            return argument;
        }
    }

    return definition;
}

static bool IsFramework(string assembly) =>
    assembly is "System.Private.CoreLib" or "?" || assembly.StartsWith("System.", StringComparison.Ordinal) ||
    assembly.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal) || assembly.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal);

static EntityHandle ReadToken(ref BlobReader il)
{
    var opcode = (ILOpCode)il.ReadByte();
    return opcode == ILOpCode.Ldtoken ? MetadataTokens.EntityHandle(il.ReadInt32()) : throw Unexpected(opcode);
}

string ReadString(ref BlobReader il)
{
    var opcode = (ILOpCode)il.ReadByte();
    return opcode == ILOpCode.Ldstr
        ? metadata.GetUserString(MetadataTokens.UserStringHandle(il.ReadInt32() & 0xFFFFFF))
        : throw Unexpected(opcode);
}

static int ReadInt(ref BlobReader il)
{
    var opcode = (ILOpCode)il.ReadByte();
    return opcode switch
    {
        ILOpCode.Ldc_i4 => il.ReadInt32(),
        ILOpCode.Ldc_i4_s => il.ReadSByte(),
        ILOpCode.Ldc_i4_m1 => -1,
        >= ILOpCode.Ldc_i4_0 and <= ILOpCode.Ldc_i4_8 => opcode - ILOpCode.Ldc_i4_0,
        _ => throw Unexpected(opcode),
    };
}

static InvalidDataException Unexpected(ILOpCode opcode) => new($"unexpected IL opcode {opcode} in the mstat file");
