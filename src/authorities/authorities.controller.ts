import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../access-control/decorators';
import { Permission } from '../access-control/permission';
import { ApiErrorDto } from '../common/api-error.dto';
import { AuthoritiesService } from './authorities.service';
import { AuthorityCodeParam, AuthorityDto, AuthorityPageDto, SearchAuthoritiesQueryDto } from './dto';

@ApiTags('authorities')
@ApiBearerAuth()
@RequirePermission(Permission.AuthoritiesRead)
@Controller('authorities')
export class AuthoritiesController {
  constructor(private readonly authorities: AuthoritiesService) {}

  @Get()
  @ApiOperation({ summary: 'Search the register of English authorities, current and past' })
  @ApiOkResponse({ type: AuthorityPageDto })
  search(@Query() q: SearchAuthoritiesQueryDto): Promise<AuthorityPageDto> {
    return this.authorities.search({ name: q.name, region: q.region, type: q.type, current: q.current, limit: q.limit ?? 50, offset: q.offset ?? 0 });
  }

  @Get(':code')
  @ApiOperation({ summary: 'One authority by register code or GSS code' })
  @ApiOkResponse({ type: AuthorityDto })
  @ApiNotFoundResponse({ type: ApiErrorDto })
  get(@Param() p: AuthorityCodeParam): Promise<AuthorityDto> {
    return this.authorities.byCode(p.code);
  }
}
