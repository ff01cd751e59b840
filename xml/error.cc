#include "xml/error.h"

#include <cstring>

namespace lxvirt {

std::string errorPrefix(int code)
{
    // The texts libvirt's virErrorMsg() uses when an error carries detail.
    switch (code) {
    case VIR_ERR_INTERNAL_ERROR: return "internal error: ";
    case VIR_ERR_NO_MEMORY: return "out of memory: ";
    case VIR_ERR_NO_SUPPORT: return "this function is not supported by the connection driver: ";
    case VIR_ERR_INVALID_ARG: return "invalid argument: ";
    case VIR_ERR_OPERATION_FAILED: return "operation failed: ";
    case VIR_ERR_XML_ERROR: return "XML error: ";
    case VIR_ERR_XML_DETAIL: return "";  // libvirt prints the detail alone
    case VIR_ERR_DOM_EXIST: return "operation failed: ";
    case VIR_ERR_OPERATION_DENIED: return "operation forbidden: ";
    case VIR_ERR_NO_DOMAIN: return "Domain not found: ";
    case VIR_ERR_OPERATION_INVALID: return "Requested operation is not valid: ";
    case VIR_ERR_CONFIG_UNSUPPORTED: return "unsupported configuration: ";
    case VIR_ERR_OPERATION_TIMEOUT: return "Timed out during operation: ";
    case VIR_ERR_ARGUMENT_UNSUPPORTED: return "argument unsupported: ";
    case VIR_ERR_OPERATION_UNSUPPORTED: return "Operation not supported: ";
    case VIR_ERR_NO_SECURITY_MODEL: return "Security model not found: ";
    case VIR_ERR_AUTH_FAILED: return "authentication failed: ";
    case VIR_ERR_ACCESS_DENIED: return "access denied: ";
    case VIR_ERR_RPC: return "";
    case VIR_ERR_SYSTEM_ERROR: return "";
    default: return "";
    }
}

Error Error::make(int code, int domain, const std::string& detail)
{
    return Error(code, domain, errorPrefix(code) + detail);
}

Error Error::system(int err, const std::string& what, int domain)
{
    return Error(VIR_ERR_SYSTEM_ERROR, domain, what + ": " + std::strerror(err));
}

}  // namespace lxvirt
