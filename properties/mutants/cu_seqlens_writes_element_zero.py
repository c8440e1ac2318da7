"""Program 0 stores 0 into cu_seqlens_k[0], which the contract leaves untouched.
Models a bounds bug: a kernel that 'helpfully' initialises the leading zero of a cu buffer.
"""

from properties.mutants._triton_defects import CU_WRITES_ELEMENT_ZERO, with_defect

fill_draft_extend_metadata = with_defect(CU_WRITES_ELEMENT_ZERO)
